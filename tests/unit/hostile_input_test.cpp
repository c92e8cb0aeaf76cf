// Inputs shaped to slip past the rules: forged `$verified` in places a reader may look,
// names that only differ by a NUL, lone surrogate escapes, secrets in any name or value, and
// outputs that grow past the size limit.
#include "support.hpp"

#include "../support/slowdown.hpp"
#include "utf8.hpp"

#include <warden/secret_keys.hpp>

using namespace warden;
using test::Harness;
using test::Input;

namespace {

// Member names as a reader that stops at NUL sees them.
std::string c_name(const rapidjson::Value& name) { return std::string(name.GetString()); }

// Every place a NUL-truncating, first- or last-duplicate-wins reader could find `$verified`.
bool reader_finds_verified(const rapidjson::Value& event) {
    auto each = [](const rapidjson::Value& object, const std::string& name, auto&& f) {
        if (!object.IsObject()) return;
        for (auto m = object.MemberBegin(); m != object.MemberEnd(); ++m) {
            if (c_name(m->name) == name) f(m->value);
        }
    };
    auto key_in = [&](const rapidjson::Value& object) {
        bool found = false;
        each(object, "$verified", [&](const rapidjson::Value&) { found = true; });
        if (object.IsArray()) {
            for (const auto& e : object.GetArray())
                found = found || (e.IsString() && std::string(e.GetString()) == "$verified");
        }
        return found;
    };
    bool found = key_in(event);
    for (const char* top : {"$set", "$set_once"})
        each(event, top, [&](const rapidjson::Value& v) { found = found || key_in(v); });
    each(event, "properties", [&](const rapidjson::Value& p) {
        found = found || key_in(p);
        for (const char* inner : {"$set", "$set_once", "$unset"}) {
            each(p, inner, [&](const rapidjson::Value& v) { found = found || key_in(v); });
        }
    });
    return found;
}

void check_clean_outputs(const BatchResult& r) {
    for (const OutputRecord& record : r.records) {
        if (record.destination == Destination::dead_letter) continue;
        CHECK_FALSE(reader_finds_verified(test::parse(record.value)));
    }
}

std::string with_properties(const std::string& properties) {
    return R"({"event":"e","distinct_id":"u","properties":)" + properties + "}";
}

bool any_secret_shape(std::string_view text) { return secret_keys::contains_key(text); }

void check_no_secret_shape(const OutputRecord& r) {
    CHECK_FALSE(any_secret_shape(*r.value));
    if (r.key) CHECK_FALSE(any_secret_shape(*r.key));
    for (size_t i = 0; i < r.headers.size(); ++i) {
        CHECK_FALSE(any_secret_shape(r.headers[i].name));
        if (r.headers[i].value) CHECK_FALSE(any_secret_shape(*r.headers[i].value));
    }
}

}  // namespace

TEST_CASE("forgery is counted wherever it was removed: shadowed duplicates, replaced inner objects, shadowed data") {
    const std::vector<std::pair<std::string, std::string>> cases = {
        // data, extra outer fields
        {R"({"event":"e","distinct_id":"u","properties":{"$verified":true},"properties":{"a":1}})", ""},
        {R"({"event":"e","distinct_id":"u","properties":{"$set":{"$verified":true}},"properties":{}})", ""},
        {R"({"event":"e","distinct_id":"u","$set":{"$verified":true},"$set":{"a":1}})", ""},
        {R"({"event":"e","distinct_id":"u","properties":{"$verified":true}})", R"("properties":{"a":1})"},
        {R"({"event":"e","distinct_id":"u","$set":{"$verified":true}})", R"("$set":{"a":1})"},
        {R"({"event":"e","distinct_id":"u","properties":{"$unset":["$verified"],"$unset":[]}})", ""},
    };
    for (const auto& [data, outer] : cases) {
        CAPTURE(data);
        CAPTURE(outer);
        Harness h;
        const auto& r = h.run_one(test::event_with("phc_public_acme", data, outer));
        REQUIRE(r.outcomes.size() == 1);
        CHECK(r.outcomes[0].verification == Verification::stripped);
        check_clean_outputs(r);
    }
    // A shadowed `data` string: a reader taking the first duplicate would parse this one.
    Harness h;
    Input in = test::event_with("phc_public_acme", R"({"event":"e","distinct_id":"u"})");
    in.value = R"({"uuid":"01900a3c-8f1e-7a2b-9c3d-4e5f60718293","distinct_id":"u","event":"e",)"
               R"("data":"{\"properties\":{\"$verified\":true}}","data":"{\"properties\":{}}"})";
    const auto& r = h.run_one(in);
    CHECK(r.outcomes[0].verification == Verification::stripped);
    CHECK(h.counters.stripped == 1);
}

TEST_CASE("names equal to a reserved name up to a NUL are not copied, in properties, top level and headers") {
    const std::vector<std::string> data = {
        with_properties(R"({"$set\u0000":{"$verified":true}})"),
        with_properties(R"({"$set_once\u0000x":{"$verified":true}})"),
        with_properties(R"({"$unset\u0000":["$verified"]})"),
        R"({"event":"e","distinct_id":"u","properties\u0000":{"$verified":true}})",
        R"({"event":"e","distinct_id":"u","$set\u0000":{"$verified":true}})",
    };
    for (const std::string& d : data) {
        CAPTURE(d);
        Harness h;
        const auto& r = h.run_one(test::event_with("phc_public_acme", d));
        REQUIRE(r.records.size() == 1);
        CHECK(r.outcomes[0].verification == Verification::stripped);
        check_clean_outputs(r);
        CHECK(r.records[0].value->find("\\u0000") == std::string::npos);
    }

    Harness h;
    Input in = test::event_with("phc_public_acme", R"({"event":"e","distinct_id":"u"})");
    using namespace std::string_literals;
    for (std::string name : {"verified\0"s, "team_id\0x"s, "Token\0"s, "VERIFIED\0\0"s, "replayed\0"s}) {
        in.headers.push_back({name, "true"});
    }
    in.headers.push_back({"replayed", "true"});
    const auto& r = h.run_one(in);
    REQUIRE(r.records.size() == 1);
    for (size_t i = 0; i < r.records[0].headers.size(); ++i) {
        const std::string_view name = r.records[0].headers[i].name;
        CAPTURE(std::string(name));
        CHECK(name.find('\0') == std::string_view::npos);
        CHECK(name != "replayed");  // set by warden's replay only
    }
    CHECK(test::header_count(r.records[0], "verified") == 1);
    CHECK(test::header_count(r.records[0], "team_id") == 1);
}

TEST_CASE("a NUL in the event name becomes U+FFFD, as in distinct_id, before routing") {
    Harness h;
    const auto& r = h.run({test::event_with("phc_public_noheat", R"({"event":"$$heatmap\u0000x","distinct_id":"u"})"),
                           test::event_with("phc_public_acme", R"({"event":"$exception\u0000","distinct_id":"u"})")});
    REQUIRE(r.records.size() == 2);
    for (const OutputRecord& record : r.records) {
        CHECK(record.destination == Destination::analytics);
        const std::string name = test::parse(record.value)["event"].GetString();  // stops at a NUL
        CHECK(name.find("\xEF\xBF\xBD") != std::string::npos);
    }
}

TEST_CASE("lone surrogate escapes, high or low, at either level, become one U+FFFD each") {
    const std::string fffd = "\xEF\xBF\xBD";
    Harness h;
    // Inner (inside the `data` string) and outer level, high and low, and a valid pair kept.
    Input in = test::event_with("phc_public_acme", "{}");
    in.value = R"({"uuid":"01900a3c-8f1e-7a2b-9c3d-4e5f60718293","distinct_id":"a\ud800b","event":"e",)"
               R"("data":"{\"properties\":{\"hi\":\"x\\ud800y\",\"lo\":\"x\\udc00y\",\"pair\":\"\\ud83d\\ude00\",)"
               R"(\"two\":\"\\udbff\\ud800\\udc00\",\"end\":\"\\ud800\"}}","note":"\udfff"})";
    const auto& r = h.run_one(in);
    REQUIRE(r.outcomes.size() == 1);
    REQUIRE_FALSE(r.outcomes[0].dead_letter);
    REQUIRE(r.records.size() == 1);
    auto d = test::parse(r.records[0].value);
    CHECK(std::string(d["distinct_id"].GetString()) == "a" + fffd + "b");
    CHECK(std::string(d["note"].GetString()) == fffd);
    const auto& p = d["properties"];
    CHECK(std::string(p["hi"].GetString()) == "x" + fffd + "y");
    CHECK(std::string(p["lo"].GetString()) == "x" + fffd + "y");
    CHECK(std::string(p["pair"].GetString()) == "\xF0\x9F\x98\x80");
    CHECK(std::string(p["two"].GetString()) == fffd + "\xF0\x90\x80\x80");
    CHECK(std::string(p["end"].GetString()) == fffd);

    // Without a token header the value is read for its token: the same repair applies there.
    Input headerless = in;
    headerless.headers.clear();
    headerless.value = R"({"uuid":"01900a3c-8f1e-7a2b-9c3d-4e5f60718293","distinct_id":"u","event":"e",)"
                       R"("token":"phc_public_acme","data":{"properties":{"k":"\ud800"}}})";
    const auto& r2 = h.run_one(headerless);
    REQUIRE(r2.records.size() == 1);
    CHECK(r2.records[0].destination == Destination::analytics);
    // An escaped backslash before "ud800" is text, not an escape: it stays as written.
    headerless.value = R"({"uuid":"01900a3c-8f1e-7a2b-9c3d-4e5f60718293","distinct_id":"u","event":"e",)"
                       R"("token":"phc_public_acme","data":{"properties":{"k":"\\ud800"}}})";
    const auto& r3 = h.run_one(headerless);
    REQUIRE(r3.records.size() == 1);
    CHECK(std::string(test::parse(r3.records[0].value)["properties"]["k"].GetString()) == "\\ud800");
}

TEST_CASE("no secret-shaped key leaves in a header name, another team's secret or an unknown one") {
    Harness h;
    Input in = test::event_with("phc_public_beta",  // team 3, which has no secrets of its own
                                with_properties(R"({"leak":"phs_secret_acme","unknown":"x phs_NeverIssued9 y",)"
                                                R"("phx_PersonalKey1":1,"url":"https://x/?k=phs_backup_acme&y=1"})"));
    in.headers.push_back({"x-phs_secret_acme", "1"});
    in.headers.push_back({"x-echo", "phs_secret_noheat"});
    in.key = "phc_public_beta:phs_secret_acme";
    const auto& r = h.run_one(in);
    REQUIRE(r.records.size() == 1);
    check_no_secret_shape(r.records[0]);
    CHECK(r.outcomes[0].secret_redacted);
    CHECK(h.counters.redacted == 1);
    auto d = test::parse(r.records[0].value);
    CHECK(std::string(d["properties"]["url"].GetString()) == "https://x/?k=[redacted]&y=1");
    CHECK(std::string(d["properties"]["unknown"].GetString()) == "x [redacted] y");
    // Public tokens and bare prefixes are not secrets.
    Harness clean;
    const auto& c =
        clean.run_one(test::event_with("phc_public_beta", with_properties(R"({"a":"phc_public_acme phs_ phs_"})")));
    CHECK_FALSE(c.outcomes[0].secret_redacted);
}

TEST_CASE("every record fits the size limit on its final bytes, dead letters included") {
    const CoreLimits limits{.max_message_bytes = 100'000, .max_json_depth = 64};
    Harness h(limits);
    // Invalid bytes triple in size when repaired to U+FFFD: under the limit in, over it out.
    Input grows = test::event_with("phc_public_acme", "{}");
    grows.value =
        R"({"uuid":"01900a3c-8f1e-7a2b-9c3d-4e5f60718293","distinct_id":"u","event":"e","data":{"properties":{"b":")" +
        std::string(60'000, '\xff') + R"("}}})";
    REQUIRE(grows.value.size() < limits.max_message_bytes);
    const auto& r = h.run_one(grows);
    REQUIRE(r.records.size() == 1);
    CHECK(r.outcomes[0].dead_letter == DeadLetterReason::message_too_large);
    CHECK(*r.records[0].value == grows.value);  // the dead letter keeps the original bytes
    CHECK(record_wire_size(r.records[0]) <= limits.max_message_bytes);

    // Large headers and key count too: past the limit the input is not even parsed.
    Input past = test::event_with("phc_public_acme", with_properties("{}"));
    past.headers.push_back({"big", std::string(limits.max_message_bytes, 'h')});
    const auto& rp = h.run_one(past);
    REQUIRE(rp.records.size() == 1);
    CHECK(rp.outcomes[0].dead_letter == DeadLetterReason::message_too_large);
    CHECK(test::header(rp.records[0], "dlq_error") == "the input message exceeds the size limit");
    CHECK(record_wire_size(rp.records[0]) <= limits.max_message_bytes);
    Input headers = test::event_with("phc_public_acme", with_properties("{}"));
    headers.headers.push_back({"big", std::string(99'900, 'h')});
    const auto& rh = h.run_one(headers);
    REQUIRE(rh.records.size() == 1);
    CHECK(rh.outcomes[0].dead_letter == DeadLetterReason::message_too_large);
    CHECK(record_wire_size(rh.records[0]) <= limits.max_message_bytes);

    // The dlq_* headers fit the smallest limit, whatever topic name a file's envelope claims.
    Harness smallest(CoreLimits{.max_message_bytes = CoreLimits::min_message_bytes, .max_json_depth = 64});
    Input named = test::event_with("phc_public_acme", "{}");
    named.value = "not json";
    const std::string long_topic(3000, 'T');
    std::vector<HeaderList> header_lists(1);
    for (auto& [n, v] : named.headers) header_lists[0].add(n, v ? std::optional<std::string_view>(*v) : std::nullopt);
    std::vector<HeaderView> views = header_lists[0].views();
    MessageView m;
    m.topic = long_topic;
    m.key = *named.key;
    m.value = named.value;
    m.headers = views;
    BatchResult named_result;
    REQUIRE(smallest.processor.process({&m, 1}, named_result) == BatchProcessor::Status::done);
    REQUIRE(named_result.records.size() == 1);
    CHECK(record_wire_size(named_result.records[0]) <= CoreLimits::min_message_bytes);
    CHECK(test::header(named_result.records[0], "dlq_topic") == long_topic.substr(0, 249));

    // A dead letter that cannot fit whole is cut to fit, and says so: one whose value, key and
    // headers together are past the limit, and one whose value alone is.
    for (size_t value_size : {99'000ul, 1'000'000ul}) {
        CAPTURE(value_size);
        Input huge = test::event_with("phc_public_acme", "{}");
        huge.value = std::string(value_size, 'v');
        huge.key = std::string(value_size / 2, 'k');
        huge.headers.push_back({"h", std::string(value_size / 2, 'h')});
        const auto& rd = h.run_one(huge);
        REQUIRE(rd.records.size() == 1);
        const OutputRecord& dl = rd.records[0];
        CHECK(dl.destination == Destination::dead_letter);
        CHECK(rd.outcomes[0].dead_letter == DeadLetterReason::message_too_large);  // the whole input counts
        CHECK(record_wire_size(dl) <= limits.max_message_bytes);
        CHECK(record_wire_size(dl) > limits.max_message_bytes - 1000);  // cut to fit, not emptied
        CHECK(test::header(dl, "dlq_truncated") == "true");
        CHECK(test::header(dl, "dlq_reason") == std::string(to_string(*rd.outcomes[0].dead_letter)));
        CHECK(dl.value->find_first_not_of('v') == std::string::npos);  // the start of what was sent
        CHECK(test::header(dl, "dlq_original_bytes").has_value());
    }
}

TEST_CASE("a message with tens of thousands of members is handled in linear time, not pairwise") {
    // Pairwise duplicate checks took about 6 s for 70,000 members on a 2-core machine and grow
    // with the square; linear handling takes milliseconds. The bound is far from both.
    auto members = [](char prefix, int count) {
        std::string out;
        for (int i = 0; i < count; ++i) out += ",\"" + std::string(1, prefix) + std::to_string(i) + "\":1";
        return out;
    };
    Harness h;
    Input in = test::event_with("phc_public_acme", "{}");
    in.value = R"({"uuid":"01900a3c-8f1e-7a2b-9c3d-4e5f60718293","distinct_id":"u","event":"e","$set":{"a":1)" +
               members('s', 2'000) + R"(},"data":{"properties":{"$set":{"b":1)" + members('s', 2'000) + "}}" +
               members('t', 76'000) + "}}";
    REQUIRE(in.value.size() < CoreLimits{}.max_message_bytes);
    const auto started = std::chrono::steady_clock::now();
    const auto& r = h.run_one(in);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    MESSAGE(in.value.size() << " bytes, 80,000 members: " << seconds << " s");
    CHECK(seconds < 3.0 * test::slowdown());
    REQUIRE(r.records.size() == 1);
    CHECK(r.records[0].destination == Destination::analytics);
}

TEST_CASE("redacting a hundred thousand secret-shaped keys takes one pass, not one per key") {
    // Replacing each key in place moved the rest of the text every time: 1.4 s for a 1 MB value,
    // growing with the square. With an 8 MB limit that would be minutes; one pass takes a blink.
    const CoreLimits limits{.max_message_bytes = 8'000'000, .max_json_depth = 64};
    Harness h(limits);
    std::string keys;
    while (keys.size() < 7'000'000) keys += "phs_0123456789abcdef,";  // longer than the marker
    Input in = test::event_with("phc_public_acme", with_properties(R"({"a":")" + keys + R"("})"));
    in.headers.push_back({"x-keys", keys.substr(0, 500'000)});
    const auto started = std::chrono::steady_clock::now();
    const auto& r = h.run_one(in);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    MESSAGE((keys.size() / 21) << " keys in the value: " << seconds << " s");
    CHECK(seconds < 5.0 * test::slowdown());
    REQUIRE(r.records.size() == 1);
    check_no_secret_shape(r.records[0]);
    CHECK(r.records[0].destination == Destination::analytics);
    CHECK(r.outcomes[0].secret_redacted);
}

TEST_CASE("a key in base64's alphabet is redacted whole, slashes and equals signs included") {
    Harness h;
    const auto& r =
        h.run_one(test::event_with("phc_public_beta", with_properties(R"({"k":"phs_With/Slash=AndEq+Plus x"})")));
    REQUIRE(r.records.size() == 1);
    CHECK(std::string(test::parse(r.records[0].value)["properties"]["k"].GetString()) == "[redacted] x");
}
