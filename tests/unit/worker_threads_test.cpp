// `run --threads`: each member's options, the members' figures as one worker's, and how many
// threads --threads 0 means.
#include "cli/thread_count.hpp"

#include <warden/ops.hpp>
#include <warden/worker_threads.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

using namespace warden;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST_CASE("run --threads: each member has its own static and transactional identity and a share of the cap") {
    WorkerOptions options;
    options.group_instance_id = "pod-7";
    options.transactional_id = "warden-tx";
    options.max_in_flight = 100'000;

    const WorkerOptions alone = member_options(options, 0, 1);
    CHECK(alone.group_instance_id == "pod-7");  // one member: exactly as before
    CHECK(alone.transactional_id == "warden-tx");
    CHECK(alone.max_in_flight == 100'000);

    const WorkerOptions second = member_options(options, 1, 3);
    CHECK(second.group_instance_id == "pod-7-1");
    CHECK(second.transactional_id == "warden-tx-1");
    CHECK(second.max_in_flight == 33'333);
    CHECK(second.member_index == 1);
    CHECK(second.member_count == 3);
    CHECK(member_options(options, 1, 3).group_instance_id == second.group_instance_id);  // stable across restarts

    options.group_instance_id.clear();  // dynamic membership stays dynamic
    options.transactional_id.clear();   // at-least-once has none
    options.max_in_flight = 2;
    const WorkerOptions plain = member_options(options, 2, 3);
    CHECK(plain.group_instance_id.empty());
    CHECK(plain.transactional_id.empty());
    CHECK(plain.max_in_flight == 1);  // never 0, which would pause fetching for ever
}

namespace {

WorkerStats ready_member(Clock::time_point now) {
    WorkerStats s;
    s.brokers_reached = true;
    s.group_joined = true;
    s.store_available = true;
    s.last_progress = now;
    s.last_delivery = now;
    return s;
}

}  // namespace

TEST_CASE("run --threads: the members' figures add up, and one unready member makes the process unready") {
    const Clock::time_point now = Clock::now();
    std::vector<WorkerStats> members = {ready_member(now), ready_member(now), ready_member(now)};
    members[0].outcomes.consumed = 10;
    members[1].outcomes.consumed = 5;
    members[0].delivered = 7;
    members[2].delivered = 3;
    members[0].assigned_partitions = 2;
    members[1].assigned_partitions = 1;
    members[0].lag = {{0, 4}, {3, 1}};
    members[1].lag = {{1, 2}};
    members[1].batch_latency.record(0.002);
    members[2].batch_latency.record(0.2);
    members[0].team_cache.hits = 9;
    members[2].team_cache.hits = 1;
    members[1].fetch_stall = 30ms;
    members[2].fetch_stall = 20ms;

    WorkerStats all = combine_member_stats(members);
    CHECK(all.outcomes.consumed == 15);
    CHECK(all.delivered == 10);
    CHECK(all.assigned_partitions == 3);
    CHECK(all.lag == std::map<int32_t, int64_t>{{0, 4}, {1, 2}, {3, 1}});
    CHECK(all.batch_latency.count == 2);
    CHECK(all.team_cache.hits == 10);
    CHECK(all.fetch_stall == 50ms);
    CHECK(evaluate_health(all, now, HealthPolicy{}).ready);

    SUBCASE("a member still joining") {
        members[1].group_joined = false;
        const Health h = evaluate_health(combine_member_stats(members), now, HealthPolicy{});
        CHECK_FALSE(h.ready);
        CHECK(h.reason.find("joining the consumer group") != std::string::npos);
    }
    SUBCASE("a member whose loop is stuck") {
        members[2].last_progress = now - 10min;
        CHECK_FALSE(evaluate_health(combine_member_stats(members), now, HealthPolicy{}).live);
    }
    SUBCASE("a member that never started") {
        members[2].last_progress = {};
        CHECK_FALSE(evaluate_health(combine_member_stats(members), now, HealthPolicy{}).live);
    }
    SUBCASE("a member whose outputs wait while another's are acknowledged") {
        members[0].in_flight = 5;  // acknowledged just now
        members[0].outputs_waiting_since = now - 10min;
        members[1].in_flight = 9;  // nothing acknowledged for ten minutes
        members[1].last_delivery = now - 10min;
        members[1].outputs_waiting_since = now - 10min;
        const Health h = evaluate_health(combine_member_stats(members), now, HealthPolicy{});
        CHECK_FALSE(h.ready);
        CHECK(h.reason.find("none was acknowledged") != std::string::npos);
    }
    SUBCASE("a member without its team store, or without brokers") {
        members[1].store_available = false;
        members[1].store_error = "connection refused";
        members[2].brokers_reached = false;
        members[2].broker_issue = "1/1 brokers are down";
        all = combine_member_stats(members);
        CHECK_FALSE(all.store_available);
        CHECK(all.store_error == "connection refused");
        CHECK(evaluate_health(all, now, HealthPolicy{}).reason == "1/1 brokers are down");
    }
    SUBCASE("a paused or lost member") {
        members[2].paused = true;
        members[0].group_lost = true;
        all = combine_member_stats(members);
        CHECK(all.paused);
        CHECK(all.group_lost);
    }
}

TEST_CASE("--threads 0: the CPUs this process may use, within its cgroup's quota, rounded up") {
    CHECK(warden::cli::cores_within(8, std::nullopt) == 8);
    CHECK(warden::cli::cores_within(64, 2.0) == 2);  // a pod limited to 2 CPUs on a big node
    CHECK(warden::cli::cores_within(64, 1.5) == 2);
    CHECK(warden::cli::cores_within(64, 0.25) == 1);
    CHECK(warden::cli::cores_within(2, 16.0) == 2);  // the quota never adds CPUs
    CHECK(warden::cli::cores_within(0, std::nullopt) == 1);
    CHECK(warden::cli::cores_within(1000, std::nullopt) == warden::cli::most_threads);

    CHECK(warden::cli::cpu_max_quota("150000 100000\n") == doctest::Approx(1.5));
    CHECK(warden::cli::cpu_max_quota("200000 100000") == doctest::Approx(2.0));
    CHECK_FALSE(warden::cli::cpu_max_quota("max 100000\n"));
    CHECK_FALSE(warden::cli::cpu_max_quota(""));
    CHECK_FALSE(warden::cli::cpu_max_quota("garbage"));
    CHECK_FALSE(warden::cli::cpu_max_quota("-1 100000"));
    CHECK_FALSE(warden::cli::cpu_max_quota("100000 0"));

    const unsigned here = warden::cli::available_cores();
    CHECK(here >= 1);
    CHECK(here <= std::max(1U, std::thread::hardware_concurrency()));
}
