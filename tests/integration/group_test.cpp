// Consumer-group membership on a real broker: members that die and join under load, and static
// membership. The mock cluster's group coordinator is not a faithful model of either (its
// rebalances wait a fixed delay; it keeps no static members), so these run on the real broker only.
#include <doctest/doctest.h>

#include "integration_checks.hpp"
#include "kafka_test_support.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <set>

using namespace itest;

namespace {

constexpr auto session_timeout = 10s;  // as start_worker sets it on the real broker

// The partitions a worker (run with --log-level info or lower) owns after everything it logged:
// the incremental "partitions assigned" less "partitions revoked" / "partitions lost". With
// `member`, only that member's lines count (a process of several, `run --threads`).
std::set<int32_t> owned_partitions(const std::string& log, std::optional<int> member = std::nullopt) {
    std::set<int32_t> owned;
    static constexpr std::string_view field = R"(","partitions":")";
    const std::string member_field = member ? R"("member":")" + std::to_string(*member) + '"' : "";
    for (size_t at = log.find(R"("msg":"partitions )"); at != std::string::npos;
         at = log.find(R"("msg":"partitions )", at + 1)) {
        if (member) {
            const size_t line_end = log.find('\n', at);
            if (log.substr(at, line_end - at).find(member_field) == std::string::npos) continue;
        }
        const size_t kind = at + 18;
        const size_t list = log.find(field, kind);
        if (list == std::string::npos) break;
        const bool assigned = log.compare(kind, 8, "assigned") == 0;
        const size_t end = log.find('"', list + field.size());
        std::string text = log.substr(list + field.size(), end - list - field.size());
        for (size_t from = 0; from < text.size();) {
            size_t comma = text.find(',', from);
            if (comma == std::string::npos) comma = text.size();
            const int32_t partition = std::stoi(text.substr(from, comma - from));
            if (assigned) {
                owned.insert(partition);
            } else {
                owned.erase(partition);
            }
            from = comma + 1;
        }
    }
    return owned;
}

// Every generation id librdkafka logged (with debug=cgrp) in a JoinGroup response, in order.
std::vector<int> joined_generations(const std::string& log) {
    static constexpr std::string_view marker = "JoinGroup response: GenerationId ";
    std::vector<int> generations;
    for (size_t at = log.find(marker); at != std::string::npos; at = log.find(marker, at + 1)) {
        generations.push_back(std::atoi(log.c_str() + at + marker.size()));
    }
    return generations;
}

// The generation id of the last heartbeat librdkafka logged (with debug=cgrp), or -1.
int heartbeat_generation(const std::string& log) {
    static constexpr std::string_view marker = "generation id ";
    const size_t at = log.rfind(marker);
    return at == std::string::npos ? -1 : std::atoi(log.c_str() + at + marker.size());
}

// Whether the group is stable with the members of `workers` worker processes, every input
// partition assigned, and each partition's committed offset past `before` (work resumed everywhere).
bool settled(const TestCluster& cluster, const std::string& group, size_t workers, GroupOffsets& offsets,
             const std::vector<int64_t>& before) {
    if (!group_stable(cluster.brokers(), group, cluster.input_topic(),
                      workers * static_cast<size_t>(members_per_worker()), input_partitions)) {
        return false;
    }
    const std::vector<int64_t> committed = offsets.committed();
    if (committed.size() != before.size()) return false;
    for (size_t p = 0; p < committed.size(); ++p) {
        if (committed[p] <= before[p]) return false;
    }
    return true;
}

// What each static member of the worker processes named `logs` (name → log) says it owns, by
// group.instance.id: the name, or with several members per process name-0, name-1, ...
std::map<std::string, std::set<int32_t>> owned_by_instance(const std::map<std::string, std::string>& logs) {
    std::map<std::string, std::set<int32_t>> owned;
    const int members = members_per_worker();
    for (const auto& [name, log] : logs) {
        if (members == 1) {
            owned[name] = owned_partitions(log);
            continue;
        }
        for (int m = 0; m < members; ++m) owned[name + "-" + std::to_string(m)] = owned_partitions(log, m);
    }
    return owned;
}

// Whether `group` is stable with exactly the static members `owned` names, each assigned by the
// broker the partitions its log says it owns, and every input partition assigned.
bool group_matches_logs(const TestCluster& cluster, const std::string& group,
                        const std::map<std::string, std::set<int32_t>>& owned) {
    const std::optional<GroupDescription> description = describe_group(cluster.brokers(), group, cluster.input_topic());
    if (!description || description->state != RD_KAFKA_CONSUMER_GROUP_STATE_STABLE ||
        description->members.size() != owned.size()) {
        return false;
    }
    size_t assigned = 0;
    for (const GroupDescription::Member& m : description->members) {
        const auto logged = owned.find(m.instance_id);
        if (logged == owned.end() || std::set<int32_t>(m.partitions.begin(), m.partitions.end()) != logged->second) {
            return false;
        }
        assigned += m.partitions.size();
    }
    return assigned == static_cast<size_t>(input_partitions);
}

// Milliseconds from `since` until the group settled as settled() says; -1 past `timeout`.
int64_t settle_ms(const TestCluster& cluster, const std::string& group, size_t workers, GroupOffsets& offsets,
                  Clock::time_point since, Clock::duration timeout) {
    const std::vector<int64_t> before = offsets.committed();
    if (!wait_until([&] { return settled(cluster, group, workers, offsets, before); }, timeout, 200ms)) return -1;
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since).count();
}

}  // namespace

TEST_CASE("group: a member killed and a member added under load; nothing lost, the group settles") {
    if (skipped_on_mock_cluster("a group coordinator with real rebalance timing")) return;
    TestCluster cluster;
    Corpus corpus = Corpus::generate(31, 40000);
    std::vector<std::unique_ptr<ChildProcess>> workers;
    for (int w = 0; w < 3; ++w)
        workers.push_back(cluster.start_worker("trio", "worker-" + std::to_string(w), {}, "info"));
    GroupOffsets offsets(cluster, "trio");

    // ~40 s of steady input: a member is killed and another added while it flows.
    InputProducer producer(cluster, corpus);
    PacedFeeder feeder(producer, 0, corpus.messages.size(), 100, 100ms);
    const int64_t started_ms = settle_ms(cluster, "trio", 3, offsets, Clock::now(), 60s);
    INFO("worker 1 stderr:\n" << workers[1]->stderr_tail());
    REQUIRE(started_ms >= 0);

    ChildProcess& killed = *workers[1];
    const auto killed_at = Clock::now();
    killed.send(SIGKILL);
    REQUIRE(killed.wait_exit(10s) == 128 + SIGKILL);
    // What the killed member may have produced but not committed: its partitions from the
    // committed offsets to the ends, both read after its death.
    const std::set<int32_t> killed_partitions = owned_partitions(killed.stderr_text());
    const std::vector<int64_t> committed_at_kill = offsets.committed();
    const std::vector<int64_t> ends_at_kill = offsets.end_offsets();
    REQUIRE(!killed_partitions.empty());
    REQUIRE(committed_at_kill.size() == static_cast<size_t>(input_partitions));
    REQUIRE(ends_at_kill.size() == static_cast<size_t>(input_partitions));
    const int64_t after_kill_ms = settle_ms(cluster, "trio", 2, offsets, killed_at, session_timeout + 30s);
    CHECK(after_kill_ms >= 0);

    const auto added_at = Clock::now();
    workers.push_back(cluster.start_worker("trio", "worker-3", {}, "info"));
    const int64_t after_add_ms = settle_ms(cluster, "trio", 3, offsets, added_at, 60s);
    CHECK(after_add_ms >= 0);
    CHECK(feeder.queued() < corpus.messages.size());  // both changes happened under load
    CHECK(!owned_partitions(workers[3]->stderr_text()).empty());

    REQUIRE(feeder.finish(60s));
    REQUIRE(offsets.wait_all_committed(90s));
    for (size_t w : {0, 2, 3}) {
        INFO("worker " << w << " stderr:\n" << workers[w]->stderr_tail());
        CHECK(stop_worker(*workers[w]) == 0);
    }
    const Comparison comparison = check_outputs(cluster, corpus);

    // Duplicates only from the killed member's uncommitted tail.
    const Expectation expected = expect(corpus, cluster);
    size_t tail_outputs = 0;
    for (size_t i = 0; i < corpus.placements.size(); ++i) {
        const Placement& at = corpus.placements[i];
        const auto p = static_cast<size_t>(at.partition);
        if (killed_partitions.count(at.partition) && at.offset >= committed_at_kill[p] && at.offset < ends_at_kill[p])
            tail_outputs += expected.destinations[i].size();
    }
    CHECK(comparison.duplicates <= tail_outputs);
    std::printf(
        "group: %zu inputs; settled %lld ms after start, %lld ms after a SIGKILL (session timeout %lld s), %lld ms "
        "after a member joined; %zu duplicates (at most %zu: the killed member's uncommitted tail)\n",
        corpus.messages.size(), static_cast<long long>(started_ms), static_cast<long long>(after_kill_ms),
        static_cast<long long>(session_timeout.count()), static_cast<long long>(after_add_ms), comparison.duplicates,
        tail_outputs);
    std::fflush(stdout);
}

TEST_CASE("group: a static member restarted within the session timeout gets its partitions back without a rebalance") {
    if (skipped_on_mock_cluster("static membership")) return;
    TestCluster cluster;
    Corpus corpus = Corpus::generate(32, 8000);
    // debug=cgrp makes librdkafka log the group generation of each JoinGroup response and heartbeat.
    // Kafka's default session timeout, as static members usually get: the restart below must come
    // back within it even on a loaded machine (otherwise the member is removed, which is a rebalance).
    constexpr auto static_session_timeout = 45s;
    auto member = [&](const std::string& name) {
        return cluster.start_worker(
            "static", name,
            {"--group-instance-id", name, "--consumer-property", "debug=cgrp", "--consumer-property",
             "session.timeout.ms=" + std::to_string(std::chrono::milliseconds(static_session_timeout).count())},
            "debug");
    };
    // One member first, so the second joins a group that must hand partitions over: the two-step
    // cooperative rebalance the settle check below has to see through.
    auto steady = member("steady");
    REQUIRE(wait_for_assignment(*steady, 60s));
    auto restarted = member("restarted");
    INFO("steady stderr:\n" << steady->stderr_tail());
    GroupOffsets offsets(cluster, "static");
    InputProducer producer(cluster, corpus);
    PacedFeeder feeder(producer, 0, corpus.messages.size(), 100, 100ms);

    // Both members in one generation, with every partition handed out and the handover done. The
    // cooperative protocol takes two generations for a second member: in the first the old member
    // only gives partitions up, and both heartbeat in it before the old member has logged the
    // revocation. So the logs alone can look settled while the next rebalance is due; the broker's
    // description of a stable group must agree with what each member logged it owns.
    // On a loaded machine one rebalance can follow another (a member slow to rejoin); a static
    // member rejoining while one is under way is rightly part of it. So the group must also have
    // stayed in that generation for a few seconds: what is tested is the rejoin of a settled group.
    constexpr auto settled_for = 3s;
    int generation = -1;
    int settled_generation = -1;
    Clock::time_point settled_since{};
    REQUIRE(wait_until(
        [&] {
            const std::string steady_log = steady->stderr_text(), restarted_log = restarted->stderr_text();
            generation = heartbeat_generation(steady_log);
            const bool settled =
                generation > 0 && heartbeat_generation(restarted_log) == generation &&
                group_matches_logs(cluster, "static",
                                   owned_by_instance({{"steady", steady_log}, {"restarted", restarted_log}}));
            if (!settled || generation != settled_generation) {
                settled_generation = settled ? generation : -1;
                settled_since = Clock::now();
                return false;
            }
            return Clock::now() - settled_since >= settled_for;
        },
        90s, 200ms));
    const std::set<int32_t> before = owned_partitions(restarted->stderr_text());
    REQUIRE(!before.empty());
    const size_t steady_log_at_kill = steady->stderr_text().size();

    const auto killed_at = Clock::now();
    restarted->send(SIGKILL);
    REQUIRE(restarted->wait_exit(10s) == 128 + SIGKILL);
    std::this_thread::sleep_for(1s);
    auto again = member("restarted");
    INFO("restarted stderr:\n" << again->stderr_tail());
    REQUIRE(wait_for_assignment(*again, static_session_timeout + 30s));
    const auto back_after = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - killed_at);
    MESSAGE("the restarted member had its partitions back " << back_after.count() << " ms after the SIGKILL");
    // Without static membership the join above waits out the rebalance; a little longer for the
    // other member's heartbeats to show the generation.
    std::this_thread::sleep_for(3s);

    // A new member's first JoinGroup is answered with generation -1 (member id required); the last
    // answer is the generation it joined.
    const std::vector<int> rejoined = joined_generations(again->stderr_text());
    const int joined = rejoined.empty() ? -1 : rejoined.back();
    MESSAGE("group generation " << generation << " before the restart; the restarted member joined generation "
                                << joined << ", the other member heartbeats in "
                                << heartbeat_generation(steady->stderr_text()));
    CHECK(joined == generation);
    CHECK(heartbeat_generation(steady->stderr_text()) == generation);
    CHECK(owned_partitions(again->stderr_text()) == before);
    const std::string steady_after = steady->stderr_text().substr(steady_log_at_kill);
    CHECK(steady_after.find(R"("msg":"partitions )") == std::string::npos);  // no revoke, no assign

    REQUIRE(feeder.finish(60s));
    REQUIRE(offsets.wait_all_committed(60s));
    CHECK(stop_worker(*steady) == 0);
    CHECK(stop_worker(*again) == 0);
    const Comparison comparison = check_outputs(cluster, corpus);
    MESSAGE("static membership restart: " << comparison.duplicates << " duplicates");
}
