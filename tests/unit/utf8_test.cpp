#include <doctest/doctest.h>

#include "utf8.hpp"

using namespace warden;

TEST_CASE("utf8: valid text passes unchanged") {
    for (std::string s : {std::string(""), std::string("plain ascii longer than eight bytes"),
                          std::string("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80")}) {
        CHECK(utf8::is_valid(s));
        CHECK(utf8::repaired(s) == s);
    }
}

TEST_CASE("utf8: invalid sequences become U+FFFD without eating ASCII") {
    CHECK_FALSE(
        utf8::is_valid("a\xFF"
                       "b"));
    CHECK(utf8::repaired("a\xFF"
                         "b") ==
          "a\xEF\xBF\xBD"
          "b");
    CHECK(utf8::repaired("\xE2\x82\"") == "\xEF\xBF\xBD\"");                          // truncated, quote kept
    CHECK(utf8::repaired("\xED\xB0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // lone surrogate
    CHECK(utf8::repaired("\xC0\xAF") == "\xEF\xBF\xBD\xEF\xBF\xBD");                  // overlong
    CHECK(utf8::repaired("\xF4\x90\x80\x80").find("\xF4") == std::string::npos);      // beyond U+10FFFF
    std::string s = "ok\x80";
    CHECK(utf8::repair(s));
    CHECK(utf8::is_valid(s));
    std::string fine = "fine";
    CHECK_FALSE(utf8::repair(fine));
}
