// The single-pass renderer: which values it takes on (the common capture shape, so the fast path is
// the one that runs) and which it leaves to the DOM path. What it writes is held to the DOM path's
// output by the differential tests.
#include <doctest/doctest.h>

#include "single_pass.hpp"

#include <rapidjson/document.h>

#include <string>

using namespace warden;

namespace {

Team acme() {
    Team t;
    t.id = 2;
    t.project_id = 20;
    t.api_token = "phc_public_acme";
    t.secret_api_token = "phs_secret_acme";
    return t;
}

// A capture value: the outer fields, and `data` written as a JSON string of `inner`.
std::string capture(const std::string& inner, const std::string& outer_extra = "") {
    std::string data;
    for (char c : inner) {
        if (c == '\n') {
            data += "\\n";
            continue;
        }
        if (c == '"' || c == '\\') data += '\\';
        data += c;
    }
    return R"({"uuid":"01900a3c-8f1e-7a2b-9c3d-4e5f60718293","distinct_id":"user-42","ip":"203.0.113.7",)" +
           outer_extra + R"("data":")" + data +
           R"(","now":"2024-06-10T06:13:20.456789Z","sent_at":"2024-06-10T06:13:20.600Z","token":"phc_public_acme",)"
           R"("event":"$pageview","timestamp":"2024-06-10T06:13:20.056789Z"})";
}

const std::string pageview =
    R"({"event":"$pageview","distinct_id":"user-42","properties":{"$current_url":"https://example.com/","n":1.5},)"
    R"("timestamp":"2024-06-10T06:13:20.200Z"})";

bool takes(const std::string& value, bool verified = false, SinglePassResult* result = nullptr) {
    static SinglePass pass;
    SinglePassResult out;
    const bool taken = pass.render(value, acme(), verified, false, 64, out);
    if (result) *result = out;
    return taken;
}

rapidjson::Document parse(std::string_view json) {
    rapidjson::Document doc;
    doc.Parse(json.data(), json.size());
    return doc;
}

}  // namespace

TEST_CASE("single pass: takes the SPEC's capture shape and writes the merged event") {
    SinglePass pass;
    SinglePassResult out;
    const std::string value = capture(pageview);  // the result's views point into it
    REQUIRE(pass.render(value, acme(), false, false, 64, out));
    CHECK(out.verification == Verification::none);
    CHECK(out.route.destination == Destination::analytics);
    CHECK(out.distinct_id == "user-42");
    const rapidjson::Document event = parse(out.main_json);
    REQUIRE(event.IsObject());
    CHECK(std::string(event["uuid"].GetString()) == "01900a3c-8f1e-7a2b-9c3d-4e5f60718293");
    CHECK(event["team_id"].GetInt64() == 2);
    CHECK(std::string(event["timestamp"].GetString()) == "2024-06-10T06:13:20.056789Z");  // outer wins
    CHECK(std::string(event["properties"]["$ip"].GetString()) == "203.0.113.7");
    CHECK(std::string(event["properties"]["$sent_at"].GetString()) == "2024-06-10T06:13:20.600Z");
    CHECK(event["properties"]["n"].GetDouble() == 1.5);
    CHECK(!event.HasMember("token"));
}

TEST_CASE("single pass: common variations stay on the fast path") {
    CHECK(takes(capture(R"({"event":"$autocapture","properties":{"$elements_chain":"a:text=\"Buy\""}})")));
    CHECK(takes(capture(R"({"event":"x","properties":{"$set":{"email":"a@b.c"},"$set_once":{"x":1}}})")));
    CHECK(takes(capture(R"({"event":"x","properties":{"$heatmap_data":{"u":[{"x":1}]},"$viewport_width":1280}})")));
    CHECK(takes(capture(R"({"event":"x","properties":{"$verified":true}})")));  // stripped here
    CHECK(takes(capture(R"({"event":"x","offset":12,"properties":{}})")));
    CHECK(takes(capture(" {\n \"event\" : \"x\" , \"properties\" : { \"a\" : [ 1 , 2 ] } } ")));
    CHECK(takes(capture("{\"event\":\"x\",\"properties\":{\"s\":\"caf\xC3\xA9\"}}")));  // raw UTF-8
}

TEST_CASE("single pass: a forged $verified is counted; a secret token's event is marked") {
    SinglePassResult out;
    REQUIRE(takes(capture(R"({"event":"x","properties":{"$set":{"$verified":true,"a":1}}})"), false, &out));
    CHECK(out.verification == Verification::stripped);
    CHECK(std::string(out.main_json).find("$verified") == std::string::npos);
    REQUIRE(takes(capture(R"({"event":"x","properties":{"$verified":false}})"), true, &out));
    CHECK(out.verification == Verification::verified);
    const rapidjson::Document event = parse(out.main_json);
    CHECK(event["properties"]["$verified"].GetBool());
}

TEST_CASE("single pass: unusual shapes are left to the DOM path") {
    CHECK_FALSE(takes(capture(R"({"event":"x","properties":{"$unset":["a"]}})")));
    CHECK_FALSE(takes(capture(R"({"event":"x","$set":{"a":1}})")));
    CHECK_FALSE(takes(capture(R"({"event":"x","properties":{"$set":{"a":1},"$set":{"b":2}}})")));
    CHECK_FALSE(takes(capture(R"({"event":"x","properties":{"$set":5}})")));
    CHECK_FALSE(takes(capture(R"({"event":"x","event":"y"})")));
    CHECK_FALSE(takes(capture(R"({"event":"x","a":1,"a":2})")));
    CHECK_FALSE(takes(capture(R"({"event":"x","properties":{"a":"\u0041"}})")));
    CHECK_FALSE(takes(R"({"uuid":"01900a3c-8f1e-7a2b-9c3d-4e5f60718293","distinct_id":"d","data":"{\"event\":5}"})"));
    CHECK_FALSE(takes(capture(R"({"event":"x","properties":[]})")));
    CHECK_FALSE(takes(capture(R"({"event":"x"})", R"("properties":{},)")));
    CHECK_FALSE(takes(capture(R"({"event":"x"})", R"("$verified":true,)")));
    CHECK_FALSE(takes(capture(R"({"event":"x"})") + "x"));
    CHECK_FALSE(takes(capture(R"({"event":"x")")));
    CHECK_FALSE(takes(R"({"uuid":"01900a3c-8f1e-7a2b-9c3d-4e5f60718293","data":{"event":"x"}})"));
    CHECK_FALSE(takes(R"({"uuid":"not-a-uuid","distinct_id":"d","event":"e","data":"{}"})"));
    CHECK_FALSE(takes(R"({"uuid":"01900a3c-8f1e-7a2b-9c3d-4e5f60718293","distinct_id":"d","event":"e","data":"{}",)"
                      R"("data":"{}"})"));
}

TEST_CASE("single pass: escapes a writer would print otherwise are left to the DOM path") {
    // The DOM path decodes them, so a secret or a reserved name could hide in them.
    std::string value = capture(R"({"event":"x","properties":{"a":"b"}})");
    value.replace(value.find("\\\"b\\\""), 6, R"(\"\\u0062\")");
    CHECK_FALSE(takes(value));
    std::string slash = capture(R"({"event":"x","properties":{"a":"b"}})");
    slash.replace(slash.find("\\\"b\\\""), 6, R"(\"\\/\")");
    CHECK_FALSE(takes(slash));
    std::string outer_escape = capture(pageview);
    outer_escape.replace(outer_escape.find("user-42"), 7, R"(user\u002d42)");
    CHECK_FALSE(takes(outer_escape));
}

TEST_CASE("single pass: numbers the DOM path would print differently are left to it") {
    for (const char* kept : {"0", "-1", "123456789012345678", "1.5", "-0.25", "5.0", "0.000001", "123456.789012345"}) {
        INFO(kept);
        CHECK(takes(capture(std::string(R"({"event":"x","properties":{"n":)") + kept + "}}")));
    }
    for (const char* changed :
         {"-0", "1.50", "1e5", "1E400", "0.0000001", "1234567890123456789", "1.2345678901234567", "01", "1.", "-"}) {
        INFO(changed);
        CHECK_FALSE(takes(capture(std::string(R"({"event":"x","properties":{"n":)") + changed + "}}")));
    }
}

TEST_CASE("single pass: a number past the largest double is left to the DOM path, wherever it is") {
    // json_scan takes up to 18 integer digits, `.0` or not; every number past the largest double
    // has more.
    const std::string within = std::string(18, '9') + ".0";
    const std::string past = "17976931348623159" + std::string(292, '0') + ".0";
    CHECK(takes(capture(R"({"event":"x","properties":{"n":)" + within + "}}")));
    CHECK(takes(capture(R"({"event":"x","properties":{"n":[)" + within + "]}}")));
    CHECK_FALSE(takes(capture(R"({"event":"x","properties":{"n":)" + std::string(19, '9') + ".0}}")));
    for (const std::string& data :
         {R"({"event":"x","properties":{"n":)" + past + "}}",
          R"({"event":"x","properties":{"n":{"m":["s",)" + past + "]}}}",
          R"({"event":"x","properties":{"$verified":)" + past + "}}",
          R"({"event":"x","properties":{"$set":{"$verified":)" + past + "}}}",
          R"({"event":"x","team_id":)" + past + "}", R"({"event":"x","timestamp":[)" + past + "]}",
          R"({"event":"x","other":)" + past + "}"}) {
        INFO(data);
        CHECK_FALSE(takes(capture(data)));
    }
    CHECK_FALSE(takes(capture(pageview, R"("ip":)" + past + ",")));
    // In a string it is text.
    CHECK(takes(capture(R"({"event":"x","properties":{"n":")" + past + R"("}})")));
}

TEST_CASE("single pass: an output holding a secret is left to the DOM path, which redacts it") {
    CHECK_FALSE(takes(capture(R"({"event":"x","properties":{"leak":"phs_secret_acme"}})")));
    CHECK_FALSE(takes(capture(R"({"event":"x","properties":{"key":"phx_someonespersonalkey"}})")));
    CHECK_FALSE(takes(capture(R"({"event":"x","phs_other_team_key":1})")));
    // A secret holding characters JSON escapes, however the client spelt them.
    Team tab = acme();
    tab.secret_api_token = "tab\there";
    SinglePass pass;
    SinglePassResult out;
    for (const char* spelt : {R"(tab\there)", R"(x-tab\there-y)"}) {
        INFO(spelt);
        const std::string value = capture(std::string(R"({"event":"x","properties":{"a":")") + spelt + R"("}})");
        CHECK_FALSE(pass.render(value, tab, false, false, 64, out));
    }
    const std::string backslash_t = capture(R"({"event":"x","properties":{"a":"tab\\there"}})");
    CHECK(pass.render(backslash_t, tab, false, false, 64, out));  // a backslash and a t: not the secret
}

TEST_CASE("single pass: nesting past the limit is left to the DOM path") {
    std::string deep = "1";
    for (int i = 0; i < 62; ++i) deep = "[" + deep + "]";  // properties at depth 2: 64 in all
    CHECK(takes(capture(R"({"event":"x","properties":{"d":)" + deep + "}}")));
    CHECK_FALSE(takes(capture(R"({"event":"x","properties":{"d":[)" + deep + "]}}")));
}
