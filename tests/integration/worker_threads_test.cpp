// `run --threads N`: one process, N members of the group. Run under both registrations of the
// suite, with N = 2 beside one-member workers and N = 3 beside three-member ones.
#include <doctest/doctest.h>

#include "integration_checks.hpp"
#include "kafka_test_support.hpp"
#include "ops_probe.hpp"

#include <algorithm>
#include <set>
#include <string>

using namespace itest;

namespace {

// Several members, whatever the suite's count.
int members_per_process() { return std::max(2, members_per_worker()); }

// The members that logged `message`, from the "member" field of its lines.
std::set<std::string> members_that_logged(const std::string& log, const std::string& message) {
    std::set<std::string> members;
    const std::string marker = "\"msg\":\"" + message + "\"";
    static constexpr std::string_view field = R"("member":")";
    for (size_t at = log.find(marker); at != std::string::npos; at = log.find(marker, at + 1)) {
        const size_t line_end = std::min(log.find('\n', at), log.size());
        const size_t member = log.find(field, at);
        if (member == std::string::npos || member > line_end) continue;
        const size_t first = member + field.size();
        members.insert(log.substr(first, log.find('"', first) - first));
    }
    return members;
}

}  // namespace

TEST_CASE("run --threads: the members of one process share every partition, and lose and repeat nothing") {
    const int threads = members_per_process();
    TestCluster cluster;
    Corpus corpus = Corpus::generate(33, 5000);
    InputProducer producer(cluster, corpus);
    producer.produce(0, corpus.messages.size());
    REQUIRE(producer.flush(30s));

    auto worker = cluster.start_worker("threads", "worker", {"--threads", std::to_string(threads)}, "info");
    INFO("worker stderr:\n" << worker->stderr_tail());
    const int port = ops_port(*worker, 30s);
    REQUIRE(port > 0);
    GroupOffsets offsets(cluster, "threads");
    REQUIRE(offsets.wait_all_committed(60s));
    // Every partition is owned, once: the members' assignments add up to the topic.
    CHECK(wait_until([&] { return metric_sum(port, "warden_assigned_partitions") == input_partitions; }, 30s));
    CHECK(metric_sum(port, "warden_events_consumed_total") == static_cast<double>(corpus.messages.size()));
    CHECK(http_get(port, "/readyz").value_or(HttpAnswer{}).status == 200);
    CHECK(stop_worker(*worker) == 0);
    CHECK(summary_consumed(worker->stdout_text()) == static_cast<int64_t>(corpus.messages.size()));

    const std::string log = worker->stderr_text();
    std::set<std::string> expected_members;
    for (int i = 0; i < threads; ++i) expected_members.insert(std::to_string(i));
    CHECK(members_that_logged(log, "worker started") == expected_members);
    CHECK(members_that_logged(log, "partitions assigned") == expected_members);
    CHECK(members_that_logged(log, "stopped") == expected_members);
    // They left together, after every member's last commit: none met another's leaving.
    CHECK(log.find("commit failed") == std::string::npos);
    CHECK(log.find("leaving the group before every member") == std::string::npos);

    const Comparison comparison = check_outputs(cluster, corpus);
    CHECK(comparison.duplicates == 0);
}

TEST_CASE("run --threads: a restart of a multi-member process resumes from the committed offsets") {
    const int threads = members_per_process();
    TestCluster cluster;
    Corpus corpus = Corpus::generate(34, 6000);
    InputProducer producer(cluster, corpus);
    producer.produce(0, corpus.messages.size() / 2);
    REQUIRE(producer.flush(30s));
    const std::vector<std::string> flags = {"--threads", std::to_string(threads)};
    GroupOffsets offsets(cluster, "threads-restart");
    {
        auto first = cluster.start_worker("threads-restart", "first", flags, "info");
        INFO("first stderr:\n" << first->stderr_tail());
        REQUIRE(offsets.wait_all_committed(60s));
        CHECK(stop_worker(*first) == 0);
    }
    producer.produce(corpus.messages.size() / 2, corpus.messages.size());
    REQUIRE(producer.flush(30s));
    auto second = cluster.start_worker("threads-restart", "second", flags, "info");
    INFO("second stderr:\n" << second->stderr_tail());
    REQUIRE(offsets.wait_all_committed(60s));
    CHECK(stop_worker(*second) == 0);
    // The second process reads only what the first did not commit.
    CHECK(summary_consumed(second->stdout_text()) == static_cast<int64_t>(corpus.messages.size() / 2));
    const Comparison comparison = check_outputs(cluster, corpus);
    CHECK(comparison.duplicates == 0);
}
