// The differential check of the single-pass renderer: the same messages through two pipelines that
// differ only in CoreLimits::single_pass, and a description of how their results differ. Shared by
// tests/unit/single_pass_differential_test.cpp and fuzz/fuzz_differential.cpp.
//
// What must be the same, per message: the outcome (drop cause, dead-letter reason, verification and
// the places a forged `$verified` was stripped from, secret_redacted, record count) and the records
// in order: destination, key, headers (names and values, in order) and the value. Dead letters are
// compared byte for byte; other values as JSON values, since the single-pass renderer may write a
// number or a string as the client did (`1.50`, `"\u00e9"`) where the DOM path writes `1.5` and
// `"é"`:
// - objects compare by name whatever the member order, duplicates in their order (first- and
//   last-wins readers must see the same), strings byte for byte;
// - numbers exactly: both paths read a number as the double nearest to it (an integer that fits 64
//   bits as that integer), so the DOM path writes back the double the client sent and the
//   single-pass copy of the client's text reads as that same double.
// Every value but a dead letter's must be JSON (SPEC §5): one that is not is a difference even when
// both paths wrote the same text.
// The size of an output follows from that choice of text too, so at the size limit one path may
// dead-letter as message_too_large what the other emits. That is accepted only where the emitted
// text explains it: printed as the DOM path prints, one of the emitted records would not fit (the
// DOM path dead-lettered), or one is within the input value's length of the limit (the single-pass
// path did: copying the client's text adds at most that much).
#pragma once

#include <warden/pipeline.hpp>
#include <warden/teams.hpp>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace test::differential {

// Printable ASCII as it is (backslashes too: JSON text is full of them), other bytes as \xNN; cut
// after `max` bytes of input.
inline std::string printable(std::string_view text, size_t max = 4096) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    const size_t shown = std::min(text.size(), max);
    out.reserve(shown + 32);
    for (size_t i = 0; i < shown; ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c >= 0x20 && c < 0x7f) {
            out.push_back(static_cast<char>(c));
        } else {
            out += "\\x";
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 0xf]);
        }
    }
    if (shown < text.size()) out += "... (" + std::to_string(text.size() - shown) + " more bytes)";
    return out;
}

inline std::string printable(const std::optional<std::string_view>& text) {
    if (!text) return "null";
    std::string out = "\"";
    out += printable(*text);
    out += '"';
    return out;
}

inline std::string_view destination_name(warden::Destination d) {
    switch (d) {
        case warden::Destination::analytics: return "analytics";
        case warden::Destination::error_tracking: return "error_tracking";
        case warden::Destination::heatmaps: return "heatmaps";
        case warden::Destination::dead_letter: return "dead_letter";
    }
    return "?";
}

inline std::string_view verification_name(warden::Verification v) {
    switch (v) {
        case warden::Verification::none: return "none";
        case warden::Verification::verified: return "verified";
        case warden::Verification::stripped: return "stripped";
    }
    return "?";
}

// ---- JSON values ----

constexpr unsigned json_parse_flags = rapidjson::kParseValidateEncodingFlag | rapidjson::kParseFullPrecisionFlag;

inline std::string_view text_of(const rapidjson::Value& s) { return {s.GetString(), s.GetStringLength()}; }

inline std::string compact(const rapidjson::Value& v) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    v.Accept(writer);
    return {buffer.GetString(), buffer.GetSize()};
}

inline bool same_number(const rapidjson::Value& a, const rapidjson::Value& b) {
    if (!a.IsDouble() && !b.IsDouble()) {
        if (a.IsInt64() && b.IsInt64()) return a.GetInt64() == b.GetInt64();
        if (a.IsUint64() && b.IsUint64()) return a.GetUint64() == b.GetUint64();
        return false;  // one above INT64_MAX, the other negative
    }
    const double x = a.GetDouble();
    const double y = b.GetDouble();
    return x == y && std::signbit(x) == std::signbit(y);
}

// Where `a` and `b` first differ (a path and both values), or nullopt when they are the same.
inline std::optional<std::string> json_difference(const rapidjson::Value& a, const rapidjson::Value& b,
                                                  const std::string& path) {
    auto differs = [&](std::string_view what) {
        return path + ": " + std::string(what) + ": " + printable(compact(a), 200) + " vs " +
               printable(compact(b), 200);
    };
    if (a.IsNumber() && b.IsNumber()) {
        if (same_number(a, b)) return std::nullopt;
        return differs("numbers differ");
    }
    if (a.GetType() != b.GetType()) return differs("types differ");
    if (a.IsString()) {
        if (text_of(a) == text_of(b)) return std::nullopt;
        return differs("strings differ");
    }
    if (a.IsArray()) {
        if (a.Size() != b.Size()) return differs("array sizes differ");
        for (rapidjson::SizeType i = 0; i < a.Size(); ++i) {
            if (auto d = json_difference(a[i], b[i], path + "[" + std::to_string(i) + "]")) return d;
        }
        return std::nullopt;
    }
    if (a.IsObject()) {
        // By name, duplicates kept in their order.
        auto sorted = [](const rapidjson::Value& object) {
            std::vector<const rapidjson::Value::Member*> members;
            members.reserve(object.MemberCount());
            for (auto m = object.MemberBegin(); m != object.MemberEnd(); ++m) members.push_back(&*m);
            std::stable_sort(members.begin(), members.end(),
                             [](const auto* x, const auto* y) { return text_of(x->name) < text_of(y->name); });
            return members;
        };
        const auto ma = sorted(a);
        const auto mb = sorted(b);
        auto extra = [&](std::string_view name, std::string_view side) {
            return differs("one more member \"" + printable(name, 100) + "\" in " + std::string(side) + " value");
        };
        for (size_t i = 0; i < std::min(ma.size(), mb.size()); ++i) {
            const std::string_view na = text_of(ma[i]->name);
            const std::string_view nb = text_of(mb[i]->name);
            if (na < nb) return extra(na, "the DOM path's");
            if (nb < na) return extra(nb, "the single-pass");
            if (auto d = json_difference(ma[i]->value, mb[i]->value, path + "." + printable(na, 100))) return d;
        }
        if (ma.size() > mb.size()) return extra(text_of(ma[mb.size()]->name), "the DOM path's");
        if (mb.size() > ma.size()) return extra(text_of(mb[ma.size()]->name), "the single-pass");
        return std::nullopt;
    }
    return std::nullopt;  // null, true, false: the types matched
}

// ---- records and outcomes ----

inline std::string describe_headers(const warden::HeaderList& headers) {
    std::string out = "[";
    for (size_t i = 0; i < headers.size(); ++i) {
        if (i) out += ", ";
        out += '"';
        out += printable(headers[i].name, 200);
        out += "\": ";
        out += printable(headers[i].value);
    }
    return out + "]";
}

inline std::string describe_record(const warden::OutputRecord& r) {
    std::string out = "    [" + std::string(destination_name(r.destination)) + "] key " +
                      printable(r.key ? std::optional<std::string_view>(*r.key) : std::nullopt) + "\n      headers " +
                      describe_headers(r.headers) + "\n      value ";
    if (r.value) out += "(" + std::to_string(r.value->size()) + " bytes) ";
    return out + printable(r.value ? std::optional<std::string_view>(*r.value) : std::nullopt) + "\n";
}

inline std::string describe_outcome(const warden::MessageOutcome& o) {
    std::string out = "drop=";
    out += o.drop ? warden::to_string(*o.drop) : "-";
    out += " dead_letter=";
    out += o.dead_letter ? warden::to_string(*o.dead_letter) : "-";
    out += " verification=";
    out += verification_name(o.verification);
    out += " stripped_from=" + std::to_string(unsigned{o.stripped_from});
    out += " secret_redacted=";
    out += o.secret_redacted ? "true" : "false";
    out += " records=" + std::to_string(o.record_count);
    return out;
}

inline std::string describe_input(const warden::MessageView& m) {
    std::string out = "  input (offset " + std::to_string(m.offset) + "): key " + printable(m.key) + "\n    headers [";
    for (size_t i = 0; i < m.headers.size(); ++i) {
        if (i) out += ", ";
        out += '"';
        out += printable(m.headers[i].name, 200);
        out += "\": ";
        out += printable(m.headers[i].value);
    }
    out += "]\n    value ";
    if (m.value) out += "(" + std::to_string(m.value->size()) + " bytes) ";
    return out + printable(m.value) + "\n";
}

inline std::span<const warden::OutputRecord> records_of(const warden::BatchResult& r, const warden::MessageOutcome& o) {
    if (size_t{o.first_record} + o.record_count > r.records.size()) return {};
    return std::span<const warden::OutputRecord>(r.records).subspan(o.first_record, o.record_count);
}

inline std::optional<std::string> record_difference(const warden::OutputRecord& a, const warden::OutputRecord& b) {
    if (a.destination != b.destination) return std::string("destinations differ");
    if (a.key != b.key) return std::string("keys differ");
    if (a.headers.size() != b.headers.size()) return std::string("header counts differ");
    for (size_t i = 0; i < a.headers.size(); ++i) {
        if (a.headers[i].name != b.headers[i].name || a.headers[i].value != b.headers[i].value) {
            return "header " + std::to_string(i) + " differs";
        }
    }
    if (a.destination == warden::Destination::dead_letter || !a.value || !b.value) {
        if (a.value != b.value) return std::string("dead-letter values differ (they must be byte-identical)");
        return std::nullopt;
    }
    rapidjson::Document da, db;
    da.Parse<json_parse_flags>(a.value->data(), a.value->size());
    db.Parse<json_parse_flags>(b.value->data(), b.value->size());
    if (da.HasParseError() || db.HasParseError()) {
        if (da.HasParseError() != db.HasParseError()) {
            return std::string(da.HasParseError() ? "the DOM path's" : "the single-pass") +
                   " value is not valid UTF-8 JSON";
        }
        return std::string("neither value is valid UTF-8 JSON");
    }
    if (auto d = json_difference(da, db, "value")) return "values differ at " + *d;
    return std::nullopt;
}

// The record as the DOM path would print its value: parsed and written back compactly.
inline size_t reprinted_wire_size(const warden::OutputRecord& r) {
    if (!r.value) return warden::record_wire_size(r);
    rapidjson::Document d;
    d.Parse<json_parse_flags>(r.value->data(), r.value->size());
    if (d.HasParseError()) return warden::record_wire_size(r);
    warden::OutputRecord copy = r;
    copy.value = compact(d);
    return warden::record_wire_size(copy);
}

inline bool too_large_for_output(const warden::MessageOutcome& o) {
    return o.dead_letter == warden::DeadLetterReason::message_too_large;
}

// Whether a message_too_large on one side only follows from how the emitting side wrote its text
// (see the top of this file).
inline bool size_flip_explained(const warden::MessageView& input, const warden::MessageOutcome& reference,
                                std::span<const warden::OutputRecord> reference_records,
                                const warden::MessageOutcome& single_pass,
                                std::span<const warden::OutputRecord> single_pass_records, size_t limit) {
    if (too_large_for_output(reference) && !single_pass.dead_letter) {
        return std::any_of(single_pass_records.begin(), single_pass_records.end(),
                           [&](const auto& r) { return reprinted_wire_size(r) > limit; });
    }
    if (too_large_for_output(single_pass) && !reference.dead_letter) {
        const size_t slack = input.value ? input.value->size() : 0;
        return std::any_of(reference_records.begin(), reference_records.end(),
                           [&](const auto& r) { return warden::record_wire_size(r) + slack > limit; });
    }
    return false;
}

// What differs for one message, or nullopt.
inline std::optional<std::string> message_difference(const warden::MessageView& input, const warden::BatchResult& ra,
                                                     const warden::MessageOutcome& a, const warden::BatchResult& rb,
                                                     const warden::MessageOutcome& b, size_t limit,
                                                     size_t* explained_flips) {
    const auto records_a = records_of(ra, a);
    const auto records_b = records_of(rb, b);
    if (records_a.size() != a.record_count || records_b.size() != b.record_count) {
        return std::string("an outcome's records lie outside its batch's records");
    }
    if (a.drop != b.drop || a.dead_letter != b.dead_letter || a.verification != b.verification ||
        a.stripped_from != b.stripped_from || a.secret_redacted != b.secret_redacted ||
        a.record_count != b.record_count) {
        if (size_flip_explained(input, a, records_a, b, records_b, limit)) {
            if (explained_flips) ++*explained_flips;
            return std::nullopt;
        }
        return std::string("outcomes differ");
    }
    for (size_t i = 0; i < records_a.size(); ++i) {
        if (auto d = record_difference(records_a[i], records_b[i])) return "record " + std::to_string(i) + ": " + *d;
    }
    return std::nullopt;
}

inline std::string describe_side(std::string_view name, const warden::BatchResult& r, const warden::MessageOutcome& o) {
    std::string out = "  " + std::string(name) + ": " + describe_outcome(o) + "\n";
    for (const auto& record : records_of(r, o)) out += describe_record(record);
    return out;
}

// The differences between the results of `batch` through the DOM path (`reference`) and the
// single-pass path, message by message (at most `max_reported` described); empty when none.
// `explained_flips`, when given, counts the size-limit flips accepted (see the top of this file).
inline std::string describe_differences(std::span<const warden::MessageView> batch,
                                        const warden::BatchResult& reference, const warden::BatchResult& single_pass,
                                        size_t limit, size_t* explained_flips = nullptr, size_t max_reported = 3) {
    if (reference.outcomes.size() != batch.size() || single_pass.outcomes.size() != batch.size()) {
        return "outcome counts differ: " + std::to_string(reference.outcomes.size()) + " (DOM path) and " +
               std::to_string(single_pass.outcomes.size()) + " (single pass) for " + std::to_string(batch.size()) +
               " messages\n";
    }
    std::string out;
    size_t differing = 0;
    for (size_t i = 0; i < batch.size(); ++i) {
        const auto& a = reference.outcomes[i];
        const auto& b = single_pass.outcomes[i];
        auto difference = message_difference(batch[i], reference, a, single_pass, b, limit, explained_flips);
        if (!difference || ++differing > max_reported) continue;
        out += "message " + std::to_string(i) + " of " + std::to_string(batch.size()) + ": " + *difference + "\n";
        out += describe_input(batch[i]);
        out += describe_side("single_pass=false (DOM path)", reference, a);
        out += describe_side("single_pass=true", single_pass, b);
    }
    if (differing > max_reported) out += std::to_string(differing - max_reported) + " more messages differ\n";
    if (out.empty() && reference.records.size() != single_pass.records.size()) {
        out = "record counts differ outside the outcomes: " + std::to_string(reference.records.size()) + " and " +
              std::to_string(single_pass.records.size()) + "\n";
    }
    return out;
}

// ---- the two pipelines ----

inline warden::CoreLimits with_single_pass(warden::CoreLimits limits, bool single_pass) {
    limits.single_pass = single_pass;
    return limits;
}

// Acme (test_teams.hpp) over its error-tracking quota, set on its backup secret: its `$exception`
// events are dropped as quota_limited, everything else goes on.
inline warden::QuotaLimits acme_exceptions_quota() {
    warden::QuotaLimits::Members exceptions = {{"phs_backup_acme", 4102444800}};
    return warden::QuotaLimits({warden::QuotaLimits::Members{}, std::move(exceptions)});
}

// A BatchProcessor with its own cache over a shared store, stamping dead letters with a fixed
// time, with the quota stage when `quota` is given.
struct Pipeline {
    Pipeline(warden::TeamStore& store, warden::CoreLimits limits, const warden::QuotaSource* quota)
        : cache(store, uncapped()), processor(cache, {}, limits, [] { return int64_t{1700000000000}; }) {
        processor.set_quota(quota);
    }

    static warden::TeamCacheOptions uncapped() {
        warden::TeamCacheOptions options;
        options.max_store_fetches_per_second = 0;  // many small batches of unknown tokens must not wait
        return options;
    }

    warden::TeamCache cache;
    warden::BatchProcessor processor;
    warden::BatchResult result;
    warden::OutcomeCounters counters;
};

// The DOM path and the single-pass path side by side, otherwise alike.
class TwinPipelines {
public:
    TwinPipelines(warden::TeamStore& store, warden::CoreLimits limits, const warden::QuotaSource* quota = nullptr)
        : limit_(limits.max_message_bytes),
          reference_(store, with_single_pass(limits, false), quota),
          single_pass_(store, with_single_pass(limits, true), quota) {}

    // Runs `batch` through both; returns what differs (empty when nothing does).
    std::string run(std::span<const warden::MessageView> batch) {
        reference_.result.clear();
        single_pass_.result.clear();
        const auto status_a = reference_.processor.process(batch, reference_.result);
        const auto status_b = single_pass_.processor.process(batch, single_pass_.result);
        if (status_a != warden::BatchProcessor::Status::done || status_b != warden::BatchProcessor::Status::done) {
            return "the team store did not answer\n";
        }
        reference_.counters.add(reference_.result);
        single_pass_.counters.add(single_pass_.result);
        return describe_differences(batch, reference_.result, single_pass_.result, limit_, &explained_flips_);
    }

    const warden::BatchResult& reference_result() const { return reference_.result; }
    const warden::OutcomeCounters& reference_counters() const { return reference_.counters; }
    const warden::OutcomeCounters& single_pass_counters() const { return single_pass_.counters; }
    size_t limit() const { return limit_; }
    // Messages whose outcomes differed only by a size-limit flip their texts explain.
    size_t explained_flips() const { return explained_flips_; }

private:
    size_t limit_;
    size_t explained_flips_ = 0;
    Pipeline reference_;
    Pipeline single_pass_;
};

}  // namespace test::differential
