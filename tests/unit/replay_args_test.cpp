// Replay ranges refused before any broker is asked: empty or inverted whatever the topic holds.
#include "replay_args.hpp"
#include "usage.hpp"

#include <doctest/doctest.h>

namespace {

bool refused(const std::string& from, const std::string& to) {
    try {
        warden::cli::check_replay_range(warden::parse_offset_spec(from), warden::parse_offset_spec(to), from, to);
    } catch (const warden::cli::UsageError& e) {
        const std::string message = e.what();
        CHECK(message.find("--from " + from + " --to " + to) != std::string::npos);
        return true;
    }
    return false;
}

}  // namespace

TEST_CASE("replay range: ends of one kind must be in order, and --to earliest is always empty") {
    const std::pair<const char*, const char*> empty_or_inverted[] = {
        {"latest", "earliest"},
        {"earliest", "earliest"},
        {"100", "earliest"},
        {"latest", "latest"},
        {"10", "5"},
        {"offset:5", "5"},
        {"2024-06-10T07:00:00Z", "2024-06-10T06:00:00Z"},
        {"2024-06-10T08:00:00+02:00", "2024-06-10T06:00:00Z"},  // the same instant: empty
        {"time:1718000000000", "1717990000000"},
    };
    for (const auto& [from, to] : empty_or_inverted) {
        CAPTURE(from);
        CAPTURE(to);
        CHECK(refused(from, to));
    }
    const std::pair<const char*, const char*> allowed[] = {
        {"earliest", "latest"},
        {"5", "10"},
        {"2024-06-10T06:00:00Z", "2024-06-10T07:00:00Z"},
        // Kinds only the brokers can compare are left to the replay.
        {"latest", "10"},
        {"10", "2024-06-10T06:00:00Z"},
        {"2024-06-10T06:00:00Z", "latest"},
        {"earliest", "5"},
    };
    for (const auto& [from, to] : allowed) {
        CAPTURE(from);
        CAPTURE(to);
        CHECK_FALSE(refused(from, to));
    }
}

TEST_CASE("replay range: partition lists") {
    CHECK(warden::cli::parse_partition_list("0,3,7") == std::vector<int32_t>{0, 3, 7});
    CHECK(warden::cli::parse_partition_list("2147483647") == std::vector<int32_t>{2147483647});
}
