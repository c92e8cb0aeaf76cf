// /readyz tells the truth about Kafka: 503 with the cause while the brokers cannot be reached or
// the group is not joined, 200 once they are, and 503 again when the brokers go away.
#include <doctest/doctest.h>

#include "integration_checks.hpp"
#include "kafka_test_support.hpp"
#include "ops_probe.hpp"

using namespace itest;

namespace {

// A readiness answer, or status 0 when none came.
HttpAnswer readiness(int port) { return http_get(port, "/readyz").value_or(HttpAnswer{}); }

// Waits until /readyz answers `status`; the last answer is kept for failure messages.
bool wait_for_readiness(int port, int status, Clock::duration timeout, HttpAnswer& last) {
    return wait_until(
        [&] {
            last = readiness(port);
            return last.status == status;
        },
        timeout, 200ms);
}

// A broker host the resolver refuses without asking any name server (a DNS label is at most 63
// characters), so the test sends nothing off this machine.
std::string unresolvable_broker() { return std::string(70, 'a') + ".invalid:9092"; }

// A worker that cannot reach its brokers answers 503 with `cause` in the reason, keeps answering
// 503 (it does not pretend to be in its group), stays live, and stops cleanly on SIGTERM.
void check_unreachable(const std::string& brokers, const std::string& cause) {
    TestCluster cluster;
    auto worker = cluster.start_worker("unreachable", "worker", {"--brokers", brokers}, "info");
    INFO("worker stderr:\n" << worker->stderr_tail());
    const int port = ops_port(*worker, 30s);
    REQUIRE(port > 0);

    HttpAnswer last;
    REQUIRE(wait_until(
        [&] {
            last = readiness(port);
            return last.status == 503 && health_reason(last).find(cause) != std::string::npos;
        },
        20s, 200ms));
    INFO("last /readyz: " << last.status << " " << last.body);
    CHECK(last.body.find("\"status\":\"unavailable\"") != std::string::npos);
    CHECK(health_reason(last).find("Kafka brokers") != std::string::npos);
    // Long enough for a subscribe-based readiness to turn 200, as it did.
    for (int sample = 0; sample < 6; ++sample) {
        std::this_thread::sleep_for(500ms);
        last = readiness(port);
        CHECK(last.status == 503);
    }
    const std::optional<HttpAnswer> live = http_get(port, "/healthz");
    REQUIRE(live);
    CHECK(live->status == 200);
    CHECK(worker->stderr_text().find(cause) != std::string::npos);  // the cause is logged too

    CHECK(stop_worker(*worker, 20s) == 0);
}

}  // namespace

TEST_CASE("readiness: brokers that refuse connections keep /readyz at 503 with the cause") {
    check_unreachable("127.0.0.1:1", "Connection refused");
}

TEST_CASE("readiness: an unresolvable broker host keeps /readyz at 503 with the cause") {
    check_unreachable(unresolvable_broker(), "Failed to resolve");
}

TEST_CASE("readiness: 200 once in the group, 503 while the brokers are down, 200 when they are back") {
    if (skipped_on_real_broker("a broker outage")) return;
    TestCluster cluster;
    auto worker = cluster.start_worker("ready", "worker", {}, "info");
    INFO("worker stderr:\n" << worker->stderr_tail());
    const int port = ops_port(*worker, 30s);
    REQUIRE(port > 0);

    HttpAnswer last;
    // Not ready before the group handed out the partitions (the mock's first join takes ~3 s).
    const HttpAnswer first = readiness(port);
    INFO("first /readyz: " << first.status << " " << first.body);
    if (first.status == 503) CHECK(!health_reason(first).empty());
    REQUIRE(wait_for_readiness(port, 200, 40s, last));
    CHECK(wait_for_assignment(*worker, 1s));

    REQUIRE(rd_kafka_mock_broker_set_down(cluster.mock(), 1) == RD_KAFKA_RESP_ERR_NO_ERROR);
    const auto downed = Clock::now();
    INFO("last /readyz: " << last.status << " " << last.body);
    REQUIRE(wait_for_readiness(port, 503, 20s, last));
    MESSAGE("not ready " << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - downed).count()
                         << " ms after the brokers went down: " << health_reason(last));
    CHECK(health_reason(last).find("Kafka brokers") != std::string::npos);
    std::this_thread::sleep_for(2s);
    CHECK(readiness(port).status == 503);
    CHECK(http_get(port, "/healthz").value_or(HttpAnswer{}).status == 200);

    REQUIRE(rd_kafka_mock_broker_set_up(cluster.mock(), 1) == RD_KAFKA_RESP_ERR_NO_ERROR);
    const auto upped = Clock::now();
    REQUIRE(wait_for_readiness(port, 200, 60s, last));
    MESSAGE("ready again " << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - upped).count()
                           << " ms after the brokers came back");

    // Still a working worker: inputs after the outage are processed and committed.
    Corpus corpus = Corpus::generate(21, 500);
    CHECK(processes_everything(cluster, corpus, "ready", 60s));
    CHECK(stop_worker(*worker) == 0);
}

TEST_CASE("readiness: a member the group gave no partition is ready (it legitimately waits)") {
    TestCluster cluster;
    const std::vector<std::string> flags = {"--input-topic", cluster.create_topic("single_partition", 1)};
    auto owner = cluster.start_worker("lonely", "owner", flags, "info");
    INFO("owner stderr:\n" << owner->stderr_tail());
    REQUIRE(wait_for_assignment(*owner, 40s));
    auto idle = cluster.start_worker("lonely", "idle", flags, "info");
    INFO("idle stderr:\n" << idle->stderr_tail());
    const int port = ops_port(*idle, 30s);
    REQUIRE(port > 0);
    HttpAnswer last;
    INFO("last /readyz of the idle member: " << last.status << " " << last.body);
    REQUIRE(wait_for_readiness(port, 200, 60s, last));
    CHECK_FALSE(wait_for_assignment(*idle, 1s));  // it owns nothing, and is ready all the same
    CHECK(stop_worker(*idle) == 0);
    CHECK(stop_worker(*owner) == 0);
}

TEST_CASE("readiness: SIGTERM while the brokers are down still exits 0 by the shutdown deadline") {
    if (skipped_on_real_broker("a broker outage")) return;
    constexpr auto shutdown_timeout = 3000ms;
    TestCluster cluster;
    auto worker = cluster.start_worker("outage-stop", "worker",
                                       {"--shutdown-timeout-ms", std::to_string(shutdown_timeout.count())}, "info");
    INFO("worker stderr:\n" << worker->stderr_tail());
    const int port = ops_port(*worker, 30s);
    REQUIRE(port > 0);
    HttpAnswer last;
    REQUIRE(wait_for_readiness(port, 200, 40s, last));
    REQUIRE(rd_kafka_mock_broker_set_down(cluster.mock(), 1) == RD_KAFKA_RESP_ERR_NO_ERROR);
    REQUIRE(wait_for_readiness(port, 503, 20s, last));

    const auto signalled = Clock::now();
    worker->send(SIGTERM);
    const std::optional<int> code = worker->wait_exit(60s);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - signalled);
    MESSAGE("stopping with the brokers down took " << took.count() << " ms");
    REQUIRE(code);
    CHECK(*code == 0);
    // The drain deadline, then leaving the group and the lag watch's last (bounded) query.
    CHECK(took <= shutdown_timeout + 3s);
}
