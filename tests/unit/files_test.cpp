// The process mode's line formats.
#include "support.hpp"

using namespace warden;

TEST_CASE("input lines: kcat envelopes, bare values, malformed envelopes") {
    auto m = parse_input_line(
        R"({"topic":"t","partition":3,"offset":9,"key":null,"headers":["a","1","b",null],"payload":"{}"})", 0);
    CHECK(m.topic == "t");
    CHECK(m.partition == 3);
    CHECK(m.offset == 9);
    CHECK_FALSE(m.key);
    REQUIRE(m.headers.size() == 2);
    CHECK(m.headers[1].name == "b");
    CHECK_FALSE(m.headers[1].value);
    CHECK(*m.value == "{}");

    auto bare = parse_input_line(R"({"uuid":"x","data":"{}"})", 41);
    CHECK(bare.topic == default_input_topic);
    CHECK(bare.offset == 41);
    CHECK(*bare.value == R"({"uuid":"x","data":"{}"})");

    auto odd = parse_input_line(R"({"payload":"{}","headers":["only-name"]})", 5);  // not a usable envelope
    CHECK(*odd.value == R"({"payload":"{}","headers":["only-name"]})");
    auto garbage = parse_input_line("\xFF\xFE not json", 6);
    CHECK(*garbage.value == "\xFF\xFE not json");

    // A lone surrogate escape in an envelope is repaired as in message values, not a reason to
    // take the whole line for a value.
    auto lone =
        parse_input_line(R"({"topic":"t","headers":["h","\ud800"],"key":"k\udc00","payload":"{\"a\":\"\ud800\"}"})", 7);
    CHECK(lone.topic == "t");
    REQUIRE(lone.headers.size() == 1);
    CHECK(*lone.headers[0].value == "\xEF\xBF\xBD");
    CHECK(*lone.key == "k\xEF\xBF\xBD");
    CHECK(*lone.value == "{\"a\":\"\xEF\xBF\xBD\"}");
}

TEST_CASE("output envelopes round-trip through the input parser") {
    OutputRecord r;
    r.key = "2:u";
    r.value = R"({"a":1})";
    r.headers.add("team_id", "2");
    r.headers.add("n", std::nullopt);
    std::string line = envelope_json("events_analytics", r);
    auto back = parse_input_line(line, 0);
    CHECK(back.topic == "events_analytics");
    CHECK(*back.key == "2:u");
    CHECK(*back.value == R"({"a":1})");
    REQUIRE(back.headers.size() == 2);
    CHECK_FALSE(back.headers[1].value);
}

TEST_CASE("input lines: a key given twice in an envelope takes its last value, as in message values") {
    auto m = parse_input_line(R"({"topic":"first","topic":"last","partition":1,"partition":2,"offset":3,"offset":4,)"
                              R"("key":"k1","key":"k2","headers":["a","1"],"headers":["b","2"],)"
                              R"("payload":"{\"v\":1}","payload":"{\"v\":2}"})",
                              0);
    CHECK(m.topic == "last");
    CHECK(m.partition == 2);
    CHECK(m.offset == 4);
    CHECK(*m.key == "k2");
    REQUIRE(m.headers.size() == 1);
    CHECK(m.headers[0].name == "b");
    CHECK(*m.value == R"({"v":2})");

    // The last value decides whether the envelope is usable too.
    auto shadowed = parse_input_line(R"({"key":5,"key":"k","payload":"p"})", 1);
    CHECK(*shadowed.key == "k");
    CHECK(*shadowed.value == "p");
    auto broken = parse_input_line(R"({"key":"k","key":5,"payload":"p"})", 2);
    CHECK(*broken.value == R"({"key":"k","key":5,"payload":"p"})");  // taken whole as a value
}
