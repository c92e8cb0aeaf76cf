// libFuzzer target: decode → verify → route through BatchProcessor, checking the security invariants:
// exactly one outcome; no invalid UTF-8, no team secret and nothing shaped like a secret key in
// any non-DLQ value, key, header name or header value; no `$verified` a NUL-stopping, any-duplicate
// reader could find in an unverified output; every record, dead letters included, within the size
// limit on its final bytes; and no audit record holding anything but its closed vocabulary (kinds,
// places, numbers, times, hex fingerprints, the source topic), so neither a token nor a fragment of
// a payload can reach the audit topic.
//
// Input: as fuzz_input.hpp describes (byte 0 picks the token header, team and settings).
#include <warden/audit.hpp>
#include <warden/pipeline.hpp>
#include <warden/teams.hpp>

#include "fuzz_input.hpp"
#include "test_teams.hpp"
#include "utf8.hpp"

#include <warden/secret_keys.hpp>

#include <rapidjson/document.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using fuzz::small_limit;
using fuzz::team_tokens;

// Built once: the cache and the processor are meant to be reused across messages.
struct Pipeline {
    explicit Pipeline(size_t limit) : processor{cache, {}, {limit, 64}, [] { return int64_t{1700000000000}; }} {
        processor.set_audit(&audit);
    }
    std::unique_ptr<warden::FileTeamStore> store = warden::FileTeamStore::from_json(test::teams_json, "fuzz");
    warden::TeamCache cache{*store};
    warden::AuditTrail audit{warden::FingerprintKey::from_secret("fuzz-audit-key-0123456789", "fuzz")};
    warden::BatchProcessor processor;
    warden::BatchResult result;
};

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    __builtin_trap();
}

void check(bool ok, const char* what) {
    if (!ok) fail(what);
}

// What a reader that stops at NUL sees as `name`.
bool reads_as(std::string_view actual, std::string_view name) {
    return actual.starts_with(name) && (actual.size() == name.size() || actual[name.size()] == '\0');
}

bool is_verified_name(std::string_view name) { return reads_as(name, "$verified"); }

std::string_view view(const rapidjson::Value& s) { return {s.GetString(), s.GetStringLength()}; }

bool has_verified_member(const rapidjson::Value* object) {
    if (!object || !object->IsObject()) return false;
    for (auto m = object->MemberBegin(); m != object->MemberEnd(); ++m) {
        if (is_verified_name(view(m->name))) return true;
    }
    return false;
}

// Every member a reader could take for `name`: duplicates are kept by the parser and readers
// differ on which wins; a reader that stops at NUL also takes "name\0…".
template <typename F>
void for_each_member(const rapidjson::Value& object, std::string_view name, F&& f) {
    for (auto m = object.MemberBegin(); m != object.MemberEnd(); ++m) {
        if (reads_as(view(m->name), name)) f(m->value);
    }
}

bool contains_any(std::string_view text, const std::vector<std::string>& secrets) {
    for (const auto& s : secrets) {
        if (text.find(s) != std::string_view::npos) return true;
    }
    return warden::secret_keys::contains_key(text);
}

bool tree_has_secret(const rapidjson::Value& v, const std::vector<std::string>& secrets) {
    auto text_has = [&](std::string_view t) { return contains_any(t, secrets); };
    if (v.IsString()) return text_has(view(v));
    if (v.IsArray()) {
        for (const auto& e : v.GetArray()) {
            if (tree_has_secret(e, secrets)) return true;
        }
    } else if (v.IsObject()) {
        for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m) {
            if (text_has(view(m->name)) || tree_has_secret(m->value, secrets)) return true;
        }
    }
    return false;
}

std::optional<std::string_view> header(const warden::OutputRecord& r, std::string_view name) {
    for (size_t i = 0; i < r.headers.size(); ++i) {
        if (r.headers[i].name == name) return r.headers[i].value;
    }
    return std::nullopt;
}

void check_record(const warden::OutputRecord& r, size_t limit) {
    check(warden::record_wire_size(r) <= limit, "output record over the size limit");
    check(r.value.has_value(), "output has no value");
    const std::string& value = *r.value;
    check(warden::utf8::is_valid(value), "value is not valid UTF-8");
    check(!r.key || warden::utf8::is_valid(*r.key), "key is not valid UTF-8");
    for (size_t i = 0; i < r.headers.size(); ++i) {
        auto h = r.headers[i];
        check(warden::utf8::is_valid(h.name), "header name is not valid UTF-8");
        check(!h.value || warden::utf8::is_valid(*h.value), "header value is not valid UTF-8");
    }

    rapidjson::Document d;
    d.Parse(value.data(), value.size());  // fails on trailing bytes too
    check(!d.HasParseError() && d.IsObject(), "value is not a JSON object");

    // The secrets of the record's team, found through its team_id header.
    auto team_id = header(r, "team_id");
    check(team_id.has_value(), "output has no team_id header");
    const std::vector<std::string>* found = nullptr;
    for (const auto& t : team_tokens) {
        if (*team_id == t.id) found = &t.secrets;
    }
    check(found != nullptr, "team_id header names no known team");
    const std::vector<std::string>& secrets = *found;
    check(!contains_any(value, secrets), "secret in value text");
    check(!tree_has_secret(d, secrets), "secret in a decoded value string");
    check(!r.key || !contains_any(*r.key, secrets), "secret in key");
    for (size_t i = 0; i < r.headers.size(); ++i) {
        auto h = r.headers[i];
        check(!contains_any(h.name, secrets), "secret in header name");
        check(!h.value || !contains_any(*h.value, secrets), "secret in header value");
    }

    auto verified = header(r, "verified");
    check(verified == "true" || verified == "false", "verified header missing");
    if (*verified != "false") return;
    for_each_member(d, "$set", [](const rapidjson::Value& v) { check(!has_verified_member(&v), "$verified in $set"); });
    for_each_member(d, "$set_once",
                    [](const rapidjson::Value& v) { check(!has_verified_member(&v), "$verified in $set_once"); });
    for_each_member(d, "properties", [](const rapidjson::Value& props) {
        check(props.IsObject(), "properties is not an object");
        check(!has_verified_member(&props), "$verified in properties");
        for_each_member(props, "$set", [](const rapidjson::Value& v) {
            check(!has_verified_member(&v), "$verified in properties.$set");
        });
        for_each_member(props, "$set_once", [](const rapidjson::Value& v) {
            check(!has_verified_member(&v), "$verified in properties.$set_once");
        });
        for_each_member(props, "$unset", [](const rapidjson::Value& v) {
            check(!has_verified_member(&v), "$verified key in properties.$unset");
            if (v.IsArray()) {
                for (const auto& e : v.GetArray()) {
                    check(!(e.IsString() && is_verified_name(view(e))), "$verified element in properties.$unset");
                }
            }
        });
    });
}

bool all_of_chars(std::string_view text, std::string_view allowed) {
    return text.find_first_not_of(allowed) == std::string_view::npos;
}

bool one_of_names(std::string_view text, std::initializer_list<std::string_view> names) {
    for (std::string_view n : names) {
        if (text == n) return true;
    }
    return false;
}

// Every member of an audit record is one the schema names, with a value from its closed vocabulary.
void check_audit_record(const warden::OutputRecord& r, const warden::MessageView& message) {
    check(r.value.has_value(), "audit record without a value");
    rapidjson::Document d;
    d.Parse(r.value->data(), r.value->size());
    check(!d.HasParseError() && d.IsObject(), "audit record is not a JSON object");
    bool known_kind = false;
    for (size_t k = 0; k < warden::audit_kind_count; ++k) {
        known_kind = known_kind || (d.HasMember("kind") && d["kind"].IsString() &&
                                    view(d["kind"]) == warden::to_string(warden::AuditKind(k)));
    }
    check(known_kind, "audit record of an unknown kind");
    constexpr std::string_view digits = "0123456789", hex = "0123456789abcdef";
    const rapidjson::Value& record = d;  // const iterators: clang finds the mutable ones' != ambiguous
    for (auto m = record.MemberBegin(); m != record.MemberEnd(); ++m) {
        const std::string_view name = view(m->name);
        const rapidjson::Value& v = m->value;
        if (name == "kind") continue;
        if (name == "team_id" || name == "token_fingerprint") {
            if (v.IsNull()) continue;
            if (name == "team_id") {
                check(v.IsInt64(), "audit team_id is not a number");
            } else {
                check(v.IsString() && v.GetStringLength() == 16 && all_of_chars(view(v), hex),
                      "audit fingerprint is not 16 hex digits");
            }
        } else if (name == "count") {
            check(v.IsUint64() && v.GetUint64() >= 1, "audit count is not a positive number");
        } else if (name == "first_seen" || name == "last_seen") {
            check(v.IsString() && v.GetStringLength() == 24 && all_of_chars(view(v), "0123456789-:.TZ"),
                  "audit time is not a UTC timestamp");
        } else if (name == "fingerprint_key_id") {
            check(v.IsString() && v.GetStringLength() == 8 && all_of_chars(view(v), hex), "audit key id");
        } else if (name == "found_in") {
            check(v.IsArray(), "audit found_in is not an array");
            for (const auto& e : v.GetArray()) {
                check(e.IsString() && one_of_names(view(e), {"event", "properties", "person_properties", "shadowed"}),
                      "audit found_in names an unknown place");
            }
        } else if (name == "sample") {
            check(v.IsObject() && v.MemberCount() == 3 && v.HasMember("topic") && v["topic"].IsString() &&
                      view(v["topic"]) == message.topic && v.HasMember("partition") && v["partition"].IsInt() &&
                      v.HasMember("offset") && v["offset"].IsInt64(),
                  "audit sample is not the source topic, partition and offset");
        } else {
            fail("audit record has a member outside its schema");
        }
    }
    check(!r.key || (!r.key->empty() && all_of_chars(*r.key, digits)), "audit key is not a team id");
    check(r.headers.size() == 1 && r.headers[0].name == "audit_kind" && r.headers[0].value == view(d["kind"]),
          "audit headers other than its kind");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static Pipeline* pipelines[2] = {new Pipeline(warden::CoreLimits{}.max_message_bytes),
                                     new Pipeline(small_limit)};  // never freed: outlive every input
    if (size == 0) return 0;
    const fuzz::FuzzMessage input(data, size);
    Pipeline* pipeline = pipelines[input.small_limit_chosen() ? 1 : 0];
    const size_t limit = input.limit();
    const std::string& value = input.value;
    const warden::MessageView& message = input.message;

    warden::BatchResult& result = pipeline->result;
    result.clear();
    auto status = pipeline->processor.process({&message, 1}, result);
    check(status == warden::BatchProcessor::Status::done, "file store reported unavailable");
    // Each input's audit records on their own, so none can outlive the input it counts.
    for (const warden::OutputRecord& r : pipeline->audit.take_records()) check_audit_record(r, message);

    // Exactly one outcome, owning exactly the records produced.
    check(result.outcomes.size() == 1, "not exactly one outcome");
    const warden::MessageOutcome& o = result.outcomes[0];
    check(o.first_record == 0 && o.record_count == result.records.size(), "outcome does not own the records");
    if (o.dead_letter) {
        check(!o.drop && result.records.size() == 1, "dead letter with other outputs or a drop");
        const warden::OutputRecord& r = result.records[0];
        check(r.destination == warden::Destination::dead_letter, "dead letter not to the dead-letter topic");
        check(warden::record_wire_size(r) <= limit, "dead letter over the size limit");
        if (header(r, "dlq_truncated") == std::optional<std::string_view>("true")) {
            check(r.value && value.starts_with(*r.value), "cut dead letter is not the start of the input");
        } else {
            check(r.value == value, "dead letter not verbatim");
        }
        return 0;
    }
    // Only heatmap_opt_in_disabled may come with outputs: the analytics half of a split event.
    if (o.drop && *o.drop != warden::DropCause::heatmap_opt_in_disabled) {
        check(result.records.empty(), "dropped message has outputs");
        return 0;
    }
    check(o.drop || !result.records.empty(), "message vanished: no output, drop or dead letter");
    // A project key without the ingestion scope is refused whatever the message holds: never verified.
    if (message.header("token") == std::optional<std::string_view>(fuzz::unscoped_key)) {
        check(o.drop == warden::DropCause::insufficient_scope && result.records.empty(),
              "a project key without the scope was not refused");
    }
    check(result.records.size() <= 2, "more than two outputs");
    for (const warden::OutputRecord& r : result.records) {
        check(r.destination != warden::Destination::dead_letter, "dead-letter record without a dead-letter outcome");
        check_record(r, limit);
    }
    return 0;
}
