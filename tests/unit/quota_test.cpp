// The quota stage: a team over its quota loses its events whichever of its tokens they were sent
// with (the bypass a token-keyed limit leaves open), per resource, and only while the limit holds.
#include "support.hpp"

#include <warden/quota.hpp>

#include <filesystem>
#include <fstream>

using namespace warden;
using test::Harness;

namespace {

constexpr int64_t now_s = 1'700'000'000;  // Harness's wall clock
constexpr int64_t later = now_s + 3600;

// Acme's team (test_teams.hpp), all three tokens.
constexpr const char* acme_tokens[] = {"phc_public_acme", "phs_secret_acme", "phs_backup_acme"};

QuotaLimits limits(QuotaLimits::Members events, QuotaLimits::Members exceptions = {}) {
    return QuotaLimits({std::move(events), std::move(exceptions)});
}

const std::string pageview = R"({"event":"$pageview","distinct_id":"u","properties":{"$current_url":"/"}})";
const std::string exception = R"({"event":"$exception","distinct_id":"u","properties":{"$exception_list":[]}})";

}  // namespace

TEST_CASE("quota: a limit set on any one of a team's tokens, or its id, drops events sent with every token") {
    for (const char* member : {"phc_public_acme", "phs_secret_acme", "phs_backup_acme", "2"}) {
        const FixedQuotaSource quota(limits({{member, later}}));
        Harness h;
        h.processor.set_quota(&quota);
        for (const char* sent_with : acme_tokens) {
            INFO("limit on " << (member[0] == 'p' ? std::string(member).substr(0, 4) : "team id") << ", sent with "
                             << std::string(sent_with).substr(0, 10));
            const auto& r = h.run_one(test::event_with(sent_with, pageview));
            REQUIRE(r.outcomes.size() == 1);
            CHECK(r.outcomes[0].drop == DropCause::quota_limited);
            CHECK(r.records.empty());
        }
        CHECK(h.counters.dropped[static_cast<size_t>(DropCause::quota_limited)] == 3);
        // Another team's events go on.
        CHECK(h.run_one(test::event_with("phc_public_beta", pageview)).records.size() == 1);
    }
}

TEST_CASE("quota: a limit holds while its score is in the future") {
    for (const std::pair<int64_t, bool>& limit : {std::pair{now_s - 1, false}, {now_s, false}, {now_s + 1, true}}) {
        const int64_t until = limit.first;
        const bool dropped = limit.second;
        const FixedQuotaSource quota(limits({{"phs_secret_acme", until}}));
        Harness h;
        h.processor.set_quota(&quota);
        INFO("until now " << (until - now_s));
        CHECK((h.run_one(test::event_with("phc_public_acme", pageview)).outcomes[0].drop == DropCause::quota_limited) ==
              dropped);
    }
}

TEST_CASE("quota: analytics and heatmaps are billed as events, error tracking as exceptions, dead letters never") {
    SUBCASE("over the events quota") {
        const FixedQuotaSource quota(limits({{"phc_public_acme", later}}));
        Harness h;
        h.processor.set_quota(&quota);
        const auto& r = h.run(
            {test::event_with("phc_public_acme", pageview), test::event_with("phc_public_acme", exception),
             test::event_with("phc_public_acme",
                              R"({"event":"$pageview","distinct_id":"u","properties":{"$heatmap_data":{"/":[]}}})"),
             test::event_with("phc_public_acme", R"({"event":"$$heatmap","distinct_id":"u","properties":{}})"),
             test::event_with("phc_public_acme", R"({"event":"$pageview","distinct_id":"u")")});
        REQUIRE(r.outcomes.size() == 5);
        CHECK(r.outcomes[0].drop == DropCause::quota_limited);
        CHECK(r.outcomes[1].drop == std::nullopt);  // error tracking has a quota of its own
        REQUIRE(r.outcomes[1].record_count == 1);
        CHECK(r.records[r.outcomes[1].first_record].destination == Destination::error_tracking);
        CHECK(r.outcomes[2].drop == DropCause::quota_limited);  // split heatmap: dropped whole
        CHECK(r.outcomes[2].record_count == 0);
        CHECK(r.outcomes[3].drop == DropCause::quota_limited);
        CHECK(r.outcomes[4].dead_letter == DeadLetterReason::failed_parse_message);  // bad input still goes to the DLQ
    }
    SUBCASE("over the exceptions quota") {
        const FixedQuotaSource quota(limits({}, {{"phs_backup_acme", later}}));
        Harness h;
        h.processor.set_quota(&quota);
        const auto& r =
            h.run({test::event_with("phs_secret_acme", pageview), test::event_with("phs_secret_acme", exception)});
        CHECK(r.outcomes[0].drop == std::nullopt);
        CHECK(r.outcomes[0].verification == Verification::verified);
        CHECK(r.outcomes[1].drop == DropCause::quota_limited);
    }
}

TEST_CASE("quota file: resources by name, others ignored; errors name the file and line, never a member") {
    const QuotaLimits read = QuotaLimits::parse(
        R"({"events": {"phc_a": 1798761600, "7": 1}, "recordings": {"phc_b": 5}, "exceptions": {}})", "q.json");
    CHECK(read.member_count(QuotaResource::events) == 2);
    CHECK(read.score(QuotaResource::events, "phc_a") == 1798761600);
    CHECK(read.member_count(QuotaResource::exceptions) == 0);
    CHECK(QuotaLimits::parse("{}", "q.json").empty());

    const auto error_of = [](const std::string& json) {
        try {
            QuotaLimits::parse(json, "limits.json");
        } catch (const std::runtime_error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    CHECK(error_of("{\"events\":\n {\"phs_leak\": 1,\n ]") ==
          "quota file limits.json: line 3: Missing a name for object member.");
    CHECK(error_of("[]") == "quota file limits.json: not a JSON object of resources (\"events\", \"exceptions\")");
    CHECK(error_of(R"({"events": []})") ==
          "quota file limits.json: resource \"events\" is not an object of member -> Unix second");
    for (const std::string bad : {R"({"events": {"phs_leak": "soon"}})", R"({"events": {"phs_leak": 1.5}})"}) {
        const std::string error = error_of(bad);
        CHECK(
            error ==
            "quota file limits.json: resource \"events\", member #1: the score is not a whole number of Unix seconds");
        CHECK(error.find("phs_") == std::string::npos);
    }
    const std::string twice = error_of(R"({"events": {"phs_leak": 1, "phs_leak": 2}})");
    CHECK(twice == "quota file limits.json: resource \"events\", member #2 repeats an earlier member; keep one");
    CHECK(error_of(R"({"events": {}, "events": {}})") ==
          "quota file limits.json: resource \"events\" is given twice; keep one");

    const auto dir = std::filesystem::temp_directory_path() / "warden-quota-test";
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "q.json") << R"({"exceptions": {"phc_a": 9}})";
    CHECK(QuotaLimits::read_file(dir / "q.json").member_count(QuotaResource::exceptions) == 1);
    CHECK_THROWS_WITH(QuotaLimits::read_file(dir / "none.json"),
                      ("quota file " + (dir / "none.json").string() + ": cannot be read").c_str());
    std::filesystem::remove_all(dir);
}
