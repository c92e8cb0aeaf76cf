// `warden run` checks at start-up that its topics exist, asking for the metadata of all topics so
// that asking creates none (the mock cluster, like a broker with auto-creation, would).
#include <doctest/doctest.h>

#include "integration_checks.hpp"
#include "kafka_test_support.hpp"
#include "ops_probe.hpp"

using namespace itest;

namespace {

// Runs a worker that must refuse to start because `missing` does not exist: exit 1, with `named`
// in its error.
void check_refused(const std::vector<std::string>& flags, const std::string& missing, const std::string& named) {
    TestCluster cluster;
    auto worker = cluster.start_worker("typo", "worker", flags);
    INFO("worker stderr:\n" << worker->stderr_tail());
    const std::optional<int> code = worker->wait_exit(30s);
    REQUIRE(code);
    CHECK(*code == 1);
    const std::string err = worker->stderr_text();
    CHECK(err.find(named) != std::string::npos);
    CHECK(err.find("does not exist") != std::string::npos);
    // Checking did not create it.
    const std::set<std::string> topics = listed_topics(cluster.brokers());
    CHECK(topics.count(cluster.input_topic()) == 1);
    CHECK(topics.count(missing) == 0);
}

}  // namespace

TEST_CASE("run: a misspelt input topic is refused with exit 1, named, and not created") {
    check_refused({"--input-topic", "events_plugin_ingestoin"}, "events_plugin_ingestoin",
                  "events_plugin_ingestoin (--input-topic)");
}

TEST_CASE("run: a missing output topic is refused with exit 1, named with its setting, and not created") {
    check_refused({"--dlq-topic", "events_dlq_missing"}, "events_dlq_missing", "events_dlq_missing (--dlq-topic)");
    check_refused({"--heatmaps-topic", "events_heatmap"}, "events_heatmap", "events_heatmap (--heatmaps-topic)");
}

TEST_CASE("run: brokers that come up late are waited for, and processing starts by itself") {
    if (skipped_on_real_broker("a broker outage")) return;
    TestCluster cluster;
    REQUIRE(rd_kafka_mock_broker_set_down(cluster.mock(), 1) == RD_KAFKA_RESP_ERR_NO_ERROR);
    auto worker = cluster.start_worker("late", "worker", {}, "info");
    INFO("worker stderr:\n" << worker->stderr_tail());
    const int port = ops_port(*worker, 30s);
    REQUIRE(port > 0);
    REQUIRE(worker->wait_for_stderr("waiting for the Kafka brokers", 20s));
    const std::optional<HttpAnswer> waiting = http_get(port, "/readyz");
    REQUIRE(waiting);
    CHECK(waiting->status == 503);
    CHECK_FALSE(worker->wait_exit(1s));  // a start-up outage is waited out, not a reason to exit

    REQUIRE(rd_kafka_mock_broker_set_up(cluster.mock(), 1) == RD_KAFKA_RESP_ERR_NO_ERROR);
    Corpus corpus = Corpus::generate(22, 300);
    CHECK(processes_everything(cluster, corpus, "late", 90s));
    CHECK(stop_worker(*worker) == 0);
    check_outputs(cluster, corpus);
}

TEST_CASE("run: on a real broker a missing topic is refused and not created, and no client may create topics") {
    if (skipped_on_mock_cluster("a broker that never creates topics by itself")) return;
    check_refused({"--input-topic", "events_plugin_ingestoin"}, "events_plugin_ingestoin",
                  "events_plugin_ingestoin (--input-topic)");
    check_refused({"--analytics-topic", "events_analytic"}, "events_analytic", "events_analytic (--analytics-topic)");

    // The broker refuses to create topics, so the refusal above would hold even for a client that
    // asks; the clients' configuration shows that warden does not ask. debug=conf logs every
    // property a client sets (librdkafka's producer default is true, the consumer's false).
    TestCluster cluster;
    auto worker = cluster.start_worker("conf", "worker", {"--kafka-property", "debug=conf"}, "debug");
    INFO("worker stderr:\n" << worker->stderr_tail());
    REQUIRE(worker->wait_for_stderr("allow.auto.create.topics", 30s));
    const std::string err = worker->stderr_text();
    CHECK(err.find("allow.auto.create.topics = false") != std::string::npos);
    CHECK(err.find("allow.auto.create.topics = true") == std::string::npos);
    CHECK(stop_worker(*worker) == 0);
}
