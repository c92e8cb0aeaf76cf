// Replay positions: earliest, latest, offsets, epoch milliseconds and ISO 8601 times.
#include <warden/offset_spec.hpp>

#include <stdexcept>

#include <doctest/doctest.h>

using warden::OffsetSpec;
using warden::parse_offset_spec;
using Kind = OffsetSpec::Kind;

TEST_CASE("offset spec: names, offsets and epoch milliseconds") {
    CHECK(parse_offset_spec("earliest").kind == Kind::earliest);
    CHECK(parse_offset_spec("latest").kind == Kind::latest);
    OffsetSpec o = parse_offset_spec("12345");
    CHECK(o.kind == Kind::offset);
    CHECK(o.value == 12345);
    o = parse_offset_spec("1718000000000");  // from 10^12 on, a number is a time
    CHECK(o.kind == Kind::timestamp);
    CHECK(o.value == 1718000000000);
    CHECK(parse_offset_spec("999999999999").kind == Kind::offset);
    CHECK(parse_offset_spec("offset:1718000000000").kind == Kind::offset);
    o = parse_offset_spec("time:5");
    CHECK(o.kind == Kind::timestamp);
    CHECK(o.value == 5);
}

TEST_CASE("offset spec: ISO 8601 times with zones and fractions") {
    CHECK(parse_offset_spec("2024-06-10T06:13:20Z").value == 1718000000000);
    CHECK(parse_offset_spec("2024-06-10T06:13:20.25Z").value == 1718000000250);
    CHECK(parse_offset_spec("2024-06-10T08:13:20+02:00").value == 1718000000000);
    CHECK(parse_offset_spec("2024-06-10T01:13:20.123456-05:00").value == 1718000000123);
    CHECK(parse_offset_spec("1970-01-01T00:00:00Z").value == 0);
    CHECK(parse_offset_spec("2024-06-10T06:13:20Z").kind == Kind::timestamp);
}

TEST_CASE("offset spec: anything else is refused, naming the text") {
    for (const char* bad : {"", "yesterday", "-5", "12a", "2024-06-10", "2024-06-10T06:13:20", "2024-13-10T06:13:20Z",
                            "2024-06-10T25:13:20Z", "2024-06-10T06:13:20.Z", "2024-06-10T06:13:20+0200",
                            "offset:", "time:x", "Earliest"}) {
        CAPTURE(bad);
        try {
            parse_offset_spec(bad);
            FAIL("accepted");
        } catch (const std::invalid_argument& e) {
            CHECK(std::string(e.what()).find(std::string("'") + bad + "'") != std::string::npos);
        }
    }
}
