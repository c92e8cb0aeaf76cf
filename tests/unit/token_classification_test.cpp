// Token classification: the header, else the value's field; acceptable tokens only.
#include <doctest/doctest.h>

#include "event_decoder.hpp"
#include "token_classification.hpp"

#include <string>

using namespace warden;

TEST_CASE("token: syntax rules before any lookup") {
    CHECK(token::is_acceptable("phc_abc"));
    CHECK(token::is_acceptable("phs_abc"));
    CHECK(token::is_acceptable(std::string(64, 'a')));
    CHECK_FALSE(token::is_acceptable(std::string(65, 'a')));
    CHECK_FALSE(token::is_acceptable(""));
    CHECK_FALSE(token::is_acceptable("phx_personal"));
    CHECK_FALSE(token::is_acceptable("has space"));
    CHECK_FALSE(token::is_acceptable("tab\there"));
    CHECK_FALSE(token::is_acceptable("caf\xC3\xA9"));
    CHECK_FALSE(token::is_acceptable(std::string("nul\0x", 5)));
}

namespace {

// The value's `token` field as classified, the value parsed as the processor parses it.
TokenLookup from_value(const std::string& value) {
    ParsedValue parsed;
    parsed.parse(value, 64);
    return token::classify_value_field(parsed.failure() ? nullptr : &parsed.outer());
}

}  // namespace

TEST_CASE("token: a header or field that cannot be a token is invalid, an acceptable one a candidate") {
    CHECK(token::classify("phc_abc").status == TokenStatus::candidate);
    CHECK(token::classify("phc_abc").token == "phc_abc");
    CHECK(token::classify("phx_personal").status == TokenStatus::invalid);
    CHECK(token::classify("phx_personal").personal_key);
    // Kept only for the audit trail's fingerprint: never looked up, never rendered.
    CHECK(token::classify("phx_personal").token == "phx_personal");
    CHECK_FALSE(token::classify("phc_abc").personal_key);
    CHECK(token::classify(std::string(65, 'a')).status == TokenStatus::invalid);
}

TEST_CASE("token: the value's field, when there is no header") {
    CHECK(from_value(R"({"token":"phc_abc"})").status == TokenStatus::candidate);
    CHECK(from_value(R"({"token":"phc_abc"})").token == "phc_abc");
    // The last duplicate wins, as in the decoder.
    CHECK(from_value(R"({"token":"phc_first","token":"phc_last"})").token == "phc_last");
    CHECK(from_value(R"({"token":"phc_first","token":null})").status == TokenStatus::missing);
    // Absent, null and empty mean missing; any other non-string is invalid.
    CHECK(from_value(R"({"event":"x"})").status == TokenStatus::missing);
    CHECK(from_value(R"({"token":null})").status == TokenStatus::missing);
    CHECK(from_value(R"({"token":""})").status == TokenStatus::missing);
    CHECK(from_value(R"({"token":42})").status == TokenStatus::invalid);
    CHECK(from_value(R"({"token":["phc_abc"]})").status == TokenStatus::invalid);
    CHECK(from_value(R"({"token":{"v":"phc_abc"}})").status == TokenStatus::invalid);
    CHECK(from_value(R"({"token":"phx_personal"})").status == TokenStatus::invalid);
    CHECK(from_value(R"({"token":"has space"})").status == TokenStatus::invalid);
    // Escapes are decoded before the syntax check: a NUL inside is not a token character.
    CHECK(from_value(R"({"token":"phc_a\u0000b"})").status == TokenStatus::invalid);
    // Only the top level counts.
    CHECK(from_value(R"({"data":{"token":"phc_abc"}})").status == TokenStatus::missing);
}

TEST_CASE("token: a value that is not a JSON object is unreadable") {
    for (const char* value :
         {"", "not json", "[1,2]", "\"phc_abc\"", R"({"token":"phc_abc")", R"({"token":"phc_abc"} x)"}) {
        CAPTURE(value);
        CHECK(from_value(value).status == TokenStatus::unreadable);
    }
    CHECK(token::classify_value_field(nullptr).status == TokenStatus::unreadable);
}
