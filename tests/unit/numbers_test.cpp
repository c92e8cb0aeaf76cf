// Numbers in client JSON (SPEC §5, §6), on both renderers: a number that does not parse to a finite
// double makes the value unusable (dead-lettered as failed_parse_message, wherever it is), and
// every other number leaves as the double it was sent as.
#include "support.hpp"

#include "event_decoder.hpp"
#include "rendering.hpp"

#include <bit>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <random>

using namespace warden;
using test::Harness;
using test::Input;

namespace {

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
    for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
        text.replace(at, from.size(), to);
    }
    return text;
}

// Spellings of numbers past the largest double: some RapidJSON refuses, others it parses to ±inf.
std::vector<std::string> overflowing_numbers() {
    return {"1.7976931348623159e308",
            "-5e308",
            "10e308",
            "3488395025793107e299",
            "17976931348623159e292",
            "1e309",
            "1e400",
            "-1E400",
            "0.1e310",
            "1.8e308",
            "-1.7976931348623159e+308",
            "17976931348623159" + std::string(292, '0') + ".0",
            "1" + std::string(309, '0')};
}

// Every place a number can sit, @N@ in a client event (JSON text) or in extra outer members.
struct Place {
    const char* label;
    const char* data;
    const char* outer;
};

constexpr Place places[] = {
    {"a property", R"({"event":"e","distinct_id":"u","properties":{"x":@N@}})", ""},
    {"a nested property", R"({"event":"e","distinct_id":"u","properties":{"a":{"b":[1,{"c":@N@}]}}})", ""},
    {"a top-level field of data", R"({"event":"e","distinct_id":"u","x":@N@})", ""},
    {"top-level $set", R"({"event":"e","distinct_id":"u","$set":{"x":@N@}})", ""},
    {"top-level $set_once", R"({"event":"e","distinct_id":"u","$set_once":{"x":@N@}})", ""},
    {"properties.$set", R"({"event":"e","distinct_id":"u","properties":{"$set":{"x":@N@}}})", ""},
    {"properties.$set_once", R"({"event":"e","distinct_id":"u","properties":{"$set_once":{"x":[@N@]}}})", ""},
    {"properties.$unset", R"({"event":"e","distinct_id":"u","properties":{"$unset":[@N@]}})", ""},
    {"$heatmap_data", R"({"event":"e","distinct_id":"u","properties":{"$heatmap_data":{"u":[{"x":@N@}]}}})", ""},
    {"a heatmap property", R"({"event":"e","distinct_id":"u","properties":{"$heatmap_data":{},"$viewport_width":@N@}})",
     ""},
    {"distinct_id", R"({"event":"e","properties":{},"distinct_id":@N@})", ""},
    {"the event name", R"({"distinct_id":"u","properties":{},"event":@N@})", ""},
    {"$ip", R"({"event":"e","distinct_id":"u","properties":{"$ip":@N@}})", ""},
    {"a shadowed duplicate property", R"({"event":"e","distinct_id":"u","properties":{"x":@N@,"x":1}})", ""},
    {"a field of the outer object", R"({"event":"e","distinct_id":"u"})", R"("x":@N@)"},
    {"outer properties", R"({"event":"e","distinct_id":"u"})", R"("properties":{"x":@N@})"},
    {"outer $set", R"({"event":"e","distinct_id":"u"})", R"("$set":{"x":@N@})"},
};

// The message of `place` with `number`, with its token in the header or only in the value, and its
// `data` as a string or as an object.
Input message(const Place& place, const std::string& number, bool token_header, bool data_object) {
    const std::string data = replace_all(place.data, "@N@", number);
    const std::string outer = replace_all(place.outer, "@N@", number);
    Input in = test::event_with("phc_public_acme", data, outer);
    if (data_object) {
        in.value = R"({"uuid":"01900a3c-8f1e-7a2b-9c3d-4e5f60718293","token":"phc_public_acme","data":)" + data +
                   (outer.empty() ? "" : "," + outer) + "}";
    }
    if (!token_header) in.headers.erase(in.headers.begin());
    return in;
}

// The last member named `name` of a parsed output, as a last-wins reader sees it.
const rapidjson::Value& member(const rapidjson::Value& object, const char* name) {
    const rapidjson::Value* found = nullptr;
    for (auto m = object.MemberBegin(); m != object.MemberEnd(); ++m) {
        if (std::string_view(m->name.GetString(), m->name.GetStringLength()) == name) found = &m->value;
    }
    REQUIRE(found != nullptr);
    return *found;
}

rapidjson::Document parse_exact(const std::string& text) {
    rapidjson::Document d;
    d.Parse<rapidjson::kParseFullPrecisionFlag>(text.data(), text.size());
    REQUIRE_FALSE(d.HasParseError());
    return d;
}

// The double a correctly rounding reader makes of `text`.
double exact(const std::string& text) { return std::strtod(text.c_str(), nullptr); }

}  // namespace

TEST_CASE("numbers: one that does not parse to a finite double is a failed_parse_message, wherever it is") {
    for (bool single_pass : {true, false}) {
        Harness h(CoreLimits{.single_pass = single_pass});
        for (const std::string& number : overflowing_numbers()) {
            for (const Place& place : places) {
                for (bool token_header : {true, false}) {
                    for (bool data_object : {false, true}) {
                        CAPTURE(single_pass);
                        CAPTURE(number);
                        CAPTURE(std::string(place.label));
                        CAPTURE(token_header);
                        CAPTURE(data_object);
                        const Input in = message(place, number, token_header, data_object);
                        const auto& r = h.run_one(in);
                        REQUIRE(r.outcomes.size() == 1);
                        CHECK(r.outcomes[0].dead_letter == DeadLetterReason::failed_parse_message);
                        REQUIRE(r.records.size() == 1);
                        CHECK(r.records[0].destination == Destination::dead_letter);
                        CHECK(*r.records[0].value == in.value);  // kept byte for byte
                    }
                }
            }
        }
    }
}

TEST_CASE("numbers: the largest finite doubles and numbers that round to zero still go out") {
    for (bool single_pass : {true, false}) {
        CAPTURE(single_pass);
        Harness h(CoreLimits{.single_pass = single_pass});
        // 1.7976931348623158e308 is nearer the largest double than twice the largest power of two.
        const std::string props =
            R"({"max":1.7976931348623157e308,"nmax":-1.7976931348623157e308,)"
            R"("max2":17976931348623157e292,"max3":1.7976931348623158e308,"tiny":1e-400,)"
            R"("ntiny":-1e-400,"sub":4.9e-324,"zero":0.000000000000000000000000000000000001e-300,)"
            R"("below":2.4703282292062327e-324,"above":2.4703282292062328e-324})";
        const auto& r = h.run_one(
            test::event_with("phc_public_acme", R"({"event":"e","distinct_id":"u","properties":)" + props + "}"));
        REQUIRE(r.records.size() == 1);
        REQUIRE(r.records[0].destination == Destination::analytics);
        const auto d = parse_exact(*r.records[0].value);
        const auto& p = d["properties"];
        CHECK(p["max"].GetDouble() == 1.7976931348623157e308);
        CHECK(p["nmax"].GetDouble() == -1.7976931348623157e308);
        CHECK(p["max2"].GetDouble() == 1.7976931348623157e308);
        CHECK(p["tiny"].GetDouble() == 0.0);
        CHECK(std::signbit(p["ntiny"].GetDouble()));
        CHECK(p["max3"].GetDouble() == 1.7976931348623157e308);
        CHECK(p["sub"].GetDouble() == 4.9e-324);
        CHECK(p["zero"].GetDouble() == 0.0);
        CHECK(p["below"].GetDouble() == 0.0);  // below half the smallest double: zero
        CHECK(p["above"].GetDouble() == 4.9e-324);
    }
}

TEST_CASE("numbers: a client's number leaves as the double it was sent as, on both renderers") {
    std::vector<std::string> numbers = {"0.9097040631431023",
                                        "3e109",
                                        "18446744073709551616",
                                        "18446744073709551617",
                                        "123456789012345678901234567890",
                                        "-98765432109876543210987654321",
                                        "0.30000000000000004",
                                        "2.2250738585072014e-308",
                                        "2.2250738585072011e-308",
                                        "9007199254740993",
                                        "1.0000000000000002",
                                        "7.1e-10",
                                        "5e-324",
                                        "1.7976931348623157e308"};
    std::mt19937_64 rng(20240610);
    char text[40];
    for (int i = 0; i < 2000; ++i) {
        // Random bit patterns of finite doubles, printed with 17 significant digits or fewer.
        double v = 0;
        do {
            v = std::bit_cast<double>(rng());
        } while (!std::isfinite(v));
        std::snprintf(text, sizeof text, i % 2 ? "%.17g" : "%.16g", v);
        numbers.emplace_back(text);
        // Decimals of 16 and 17 digits in the range clients send.
        std::snprintf(text, sizeof text, "%.*g", 16 + i % 2, static_cast<double>(rng() >> 11) / 9007199254740992.0);
        numbers.emplace_back(text);
    }
    for (bool single_pass : {true, false}) {
        Harness h(CoreLimits{.single_pass = single_pass});
        for (const std::string& n : numbers) {
            CAPTURE(single_pass);
            CAPTURE(n);
            // As a property, nested, in a top-level field and as the outer distinct_id (stringified).
            const std::string data = R"({"event":"e","properties":{"n":)" + n + R"(,"a":[)" + n + R"(],"$set":{"s":)" +
                                     n + R"(}},"top":)" + n + "}";
            const auto& r = h.run_one(test::event_with("phc_public_acme", data, R"("distinct_id":)" + n));
            REQUIRE(r.records.size() == 1);
            REQUIRE(r.records[0].destination == Destination::analytics);
            const auto d = parse_exact(*r.records[0].value);
            const double want = exact(n);
            const auto& p = member(d, "properties");
            CHECK(member(p, "n").GetDouble() == want);
            CHECK(member(p, "a")[0].GetDouble() == want);
            CHECK(member(member(p, "$set"), "s").GetDouble() == want);
            CHECK(member(d, "top").GetDouble() == want);
            CHECK(exact(member(d, "distinct_id").GetString()) == want);
        }
    }
}

TEST_CASE("rendering: a value the writer refuses never yields cut or invalid JSON") {
    // Parsing refuses non-finite numbers, so only a document changed afterwards holds one; the
    // renderer must still not write `{"x":}` or stop halfway through an array.
    Team team;
    team.id = 2;
    team.project_id = 20;
    const std::string value = R"({"uuid":"01900a3c-8f1e-7a2b-9c3d-4e5f60718293","event":"e","distinct_id":"u",)"
                              R"("data":{"properties":{"x":1,"a":[1,2],"$set":{"s":1},"$heatmap_data":{"h":1}},)"
                              R"("other":{"o":[1]}}})";
    const auto patch = [](DecodedEvent& event, ParsedValue& parsed, int where, double bad) {
        auto& props = const_cast<json::Value&>(*event.properties);
        switch (where) {
            case 0: props["x"].SetDouble(bad); break;
            case 1: props["a"][1].SetDouble(bad); break;
            case 2: props["$set"]["s"].SetDouble(bad); break;
            case 3: props["$heatmap_data"]["h"].SetDouble(bad); break;
            default: parsed.outer()["data"]["other"]["o"][0].SetDouble(bad); break;
        }
    };
    for (int where = 0; where < 5; ++where) {
        for (double bad : {std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
                           std::numeric_limits<double>::quiet_NaN()}) {
            CAPTURE(where);
            CAPTURE(bad);
            ParsedValue parsed;
            parsed.parse(value, 64);
            DecodedEvent event;
            REQUIRE_FALSE(decode_event(parsed, 64, event));
            patch(event, parsed, where, bad);
            RenderedJson main, heatmap;
            CHECK_FALSE(render_event(event, team, {}, main));  // every place is in the main event
            const bool heatmap_ok = render_heatmap_event(event, team, false, "u", heatmap);
            CHECK(heatmap_ok == (where != 3));  // only $heatmap_data is in the heatmap event
            // What was written before the refusal is never a whole value; what renders is JSON.
            const std::string main_text(main.text()), heatmap_text(heatmap.text());
            rapidjson::Document d;
            CHECK(d.Parse(main_text.c_str(), main_text.size()).HasParseError());
            CHECK(d.Parse(heatmap_text.c_str(), heatmap_text.size()).HasParseError() == !heatmap_ok);
        }
    }
}
