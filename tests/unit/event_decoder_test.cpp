// Decoding: the capture value and its `data` merged into one event (SPEC §2), or the reason it
// is dead-lettered.
#include <doctest/doctest.h>

#include "event_decoder.hpp"

#include <optional>
#include <string>

using namespace warden;

namespace {

constexpr const char* uuid_a = "01900a3c-8f1e-7a2b-9c3d-4e5f60718293";

struct Decoded {
    ParsedValue value;
    DecodedEvent event;
    std::optional<DecodeFailure> failure;

    explicit Decoded(const std::string& text, unsigned max_depth = 64) {
        value.parse(text, max_depth);
        failure = decode_event(value, max_depth, event);
    }
};

// A capture value whose `data` is the JSON text of `data_object`, plus `outer_fields`.
std::string capture(const std::string& data_object, const std::string& outer_fields = "") {
    std::string escaped;
    for (char c : data_object) {
        if (c == '"' || c == '\\') escaped += '\\';
        escaped += c;
    }
    return std::string(R"({"uuid":")") + uuid_a + R"(","data":")" + escaped + "\"" +
           (outer_fields.empty() ? "" : "," + outer_fields) + "}";
}

std::string text_of(const json::Value* v) { return v && v->IsString() ? std::string(json::view(*v)) : "<none>"; }

}  // namespace

TEST_CASE("decoder: data as a JSON string or an object, merged with the outer fields") {
    Decoded from_string(capture(R"({"event":"$pageview","distinct_id":"u1","properties":{"a":1}})"));
    REQUIRE_FALSE(from_string.failure);
    CHECK(from_string.event.event == "$pageview");
    CHECK(from_string.event.distinct_id == "u1");
    CHECK(from_string.event.uuid == uuid_a);
    REQUIRE(from_string.event.properties);
    CHECK(from_string.event.properties->IsObject());

    Decoded from_object(std::string(R"({"uuid":")") + uuid_a + R"(","data":{"event":"e","distinct_id":"u2"}})");
    REQUIRE_FALSE(from_object.failure);
    CHECK(from_object.event.event == "e");
    CHECK(from_object.event.distinct_id == "u2");
    CHECK(from_object.event.properties == nullptr);
}

TEST_CASE("decoder: outer fields win over data, later duplicates over earlier, a null shadows") {
    Decoded outer_wins(capture(R"({"event":"e","distinct_id":"from-data","ip":"10.0.0.1"})",
                               R"("distinct_id":"from-outer","ip":"10.0.0.2")"));
    REQUIRE_FALSE(outer_wins.failure);
    CHECK(outer_wins.event.distinct_id == "from-outer");
    CHECK(text_of(outer_wins.event.ip) == "10.0.0.2");

    Decoded last_wins(capture(R"({"event":"first","event":"last","distinct_id":"u"})"));
    REQUIRE_FALSE(last_wins.failure);
    CHECK(last_wins.event.event == "last");

    // An outer null means absent, and still hides the client's value.
    Decoded null_shadows(capture(R"({"event":"e","distinct_id":"u","ip":"10.0.0.1"})", R"("ip":null)"));
    REQUIRE_FALSE(null_shadows.failure);
    CHECK(null_shadows.event.ip == nullptr);

    // Of several `data` members the last is decoded, and remembered as the one used.
    Decoded two_data(std::string(R"({"uuid":")") + uuid_a +
                     R"(","data":{"event":"a","distinct_id":"u"},"data":{"event":"b","distinct_id":"u"}})");
    REQUIRE_FALSE(two_data.failure);
    CHECK(two_data.event.event == "b");
    CHECK(two_data.event.data_member == &(two_data.value.outer().MemberEnd() - 1)->value);
}

TEST_CASE("decoder: scalar names become strings, NUL becomes U+FFFD") {
    Decoded numbers(capture(R"({"event":42,"distinct_id":1.5})"));
    REQUIRE_FALSE(numbers.failure);
    CHECK(numbers.event.event == "42");
    CHECK(numbers.event.distinct_id == "1.5");

    Decoded booleans(capture(R"({"event":true,"distinct_id":false})"));
    REQUIRE_FALSE(booleans.failure);
    CHECK(booleans.event.event == "true");
    CHECK(booleans.event.distinct_id == "false");

    Decoded nul(capture(R"({"event":"$exception\u0000x","distinct_id":"a\u0000b"})"));
    REQUIRE_FALSE(nul.failure);
    CHECK(nul.event.event == "$exception\xEF\xBF\xBDx");
    CHECK(nul.event.distinct_id ==
          "a\xEF\xBF\xBD"
          "b");
}

TEST_CASE("decoder: malformed values are dead-lettered with a fixed detail") {
    struct Case {
        std::string value;
        DeadLetterReason reason;
    };
    const Case cases[] = {
        {"not json", DeadLetterReason::failed_parse_message},
        {"[1]", DeadLetterReason::failed_parse_message},
        {std::string(R"({"uuid":")") + uuid_a + R"(","data":"{not json"})", DeadLetterReason::failed_parse_message},
        {std::string(R"({"uuid":")") + uuid_a + R"(","data":"[1]"})", DeadLetterReason::failed_parse_message},
        {std::string(R"({"uuid":")") + uuid_a + R"("})", DeadLetterReason::failed_parse_message},  // no data
        {capture(R"({"distinct_id":"u"})"), DeadLetterReason::failed_parse_message},               // no event
        {capture(R"({"event":"e"})"), DeadLetterReason::failed_parse_message},                     // no distinct_id
        {capture(R"({"event":{},"distinct_id":"u"})"), DeadLetterReason::failed_parse_message},
        {capture(R"({"event":"e","distinct_id":null})"), DeadLetterReason::failed_parse_message},
        {capture(R"({"event":"e","distinct_id":"u","properties":[]})"), DeadLetterReason::failed_parse_message},
        {capture(R"({"event":"e","distinct_id":"u","$set":"x"})"), DeadLetterReason::failed_parse_message},
        {capture(R"({"event":"e","distinct_id":"u","properties":{"$set_once":1}})"),
         DeadLetterReason::failed_parse_message},
        {capture(R"({"event":"e","distinct_id":"u"})", R"("uuid":"")"), DeadLetterReason::empty_uuid},
        {capture(R"({"event":"e","distinct_id":"u"})", R"("uuid":null)"), DeadLetterReason::empty_uuid},
        {capture(R"({"event":"e","distinct_id":"u"})", R"("uuid":"not-a-uuid")"), DeadLetterReason::invalid_uuid},
        {capture(R"({"event":"e","distinct_id":"u"})", R"("uuid":7)"), DeadLetterReason::invalid_uuid},
    };
    for (const Case& c : cases) {
        CAPTURE(c.value);
        Decoded d(c.value);
        REQUIRE(d.failure);
        CHECK(d.failure->reason == c.reason);
        CHECK_FALSE(d.failure->detail.empty());
        CHECK(d.failure->detail.find("phc_") == std::string_view::npos);
    }
}

TEST_CASE("decoder: nesting past the depth limit is refused, in the value and in data") {
    const std::string deep_properties =
        R"({"event":"e","distinct_id":"u","properties":{"a":)" + std::string(10, '[') + std::string(10, ']') + "}}";
    CHECK_FALSE(Decoded(capture(deep_properties), 64).failure);
    REQUIRE(Decoded(capture(deep_properties), 8).failure);
    CHECK(Decoded(capture(deep_properties), 8).failure->reason == DeadLetterReason::failed_parse_message);
    const std::string deep_outer = std::string(R"({"x":)") + std::string(20, '[') + std::string(20, ']') + "}";
    CHECK(Decoded(deep_outer, 8).failure->reason == DeadLetterReason::failed_parse_message);
}

TEST_CASE("decoder: a parsed value is reused, each parse replacing the last") {
    ParsedValue value;
    DecodedEvent event;
    value.parse(capture(R"({"event":"first","distinct_id":"u"})"), 64);
    REQUIRE_FALSE(decode_event(value, 64, event));
    CHECK(event.event == "first");
    value.parse("broken", 64);
    REQUIRE(value.failure());
    value.parse(capture(R"({"event":"second","distinct_id":"u"})"), 64);
    CHECK_FALSE(value.failure());
    DecodedEvent again;
    REQUIRE_FALSE(decode_event(value, 64, again));
    CHECK(again.event == "second");
}
