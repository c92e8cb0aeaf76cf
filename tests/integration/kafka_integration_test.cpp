// `warden run` against the test cluster (mock or real broker): routing, consumer groups and graceful shutdown.
// Fault tests (crashes, broker errors, failing deliveries) are in kafka_fault_test.cpp.
#include <doctest/doctest.h>

#include "integration_checks.hpp"
#include "kafka_test_support.hpp"
#include "ops_probe.hpp"

#include <rapidjson/document.h>

#include <csignal>
#include <map>

using namespace itest;

TEST_CASE("routing: a worker produces exactly the outputs the offline pipeline computes") {
    TestCluster cluster;
    Corpus corpus = Corpus::generate(1, 3000);
    InputProducer producer(cluster, corpus);
    producer.produce(0, corpus.messages.size());
    REQUIRE(producer.flush(30s));

    auto worker = cluster.start_worker("routing", "worker");
    INFO("worker stderr:\n" << worker->stderr_tail());
    GroupOffsets offsets(cluster, "routing");
    REQUIRE(offsets.wait_all_committed(60s));
    CHECK(stop_worker(*worker) == 0);
    CHECK(summary_consumed(worker->stdout_text()) == static_cast<int64_t>(corpus.messages.size()));

    const Expectation expected = expect(corpus, cluster);
    const Outputs outputs = read_outputs(cluster);
    REQUIRE(outputs.complete);
    const auto expected_counts = count_by_topic(expected.records);
    auto actual_counts = count_by_topic(outputs.records);
    for (const std::string& topic : cluster.output_topics()) {
        CAPTURE(topic);
        REQUIRE(expected_counts.count(topic) == 1);  // the corpus exercises every route
        CHECK(actual_counts[topic] == expected_counts.at(topic));
    }
    const Comparison comparison = compare(expected.records, outputs.records);
    CHECK(comparison.lost == 0);
    CHECK(comparison.duplicates == 0);
    CHECK(comparison.unexpected == 0);
    CHECK(outputs.secret_leaks == 0);
    const warden::TopicNames& topics = cluster.topics();
    MESSAGE("routing: " << corpus.messages.size() << " inputs, " << expected_counts.at(topics.analytics)
                        << " analytics, " << expected_counts.at(topics.error_tracking) << " error tracking, "
                        << expected_counts.at(topics.heatmaps) << " heatmaps, "
                        << expected_counts.at(topics.dead_letter) << " dead letters");
}

TEST_CASE("audit: the worker's audit records count what its metrics count, and hold their inputs' offsets") {
    TestCluster cluster;
    Corpus corpus = Corpus::generate(11, 3000);
    // Besides the corpus's forged $verified and backup secrets: secret-shaped tokens no team owns,
    // and personal keys, sent as ingestion tokens.
    for (size_t n = 0; n < corpus.messages.size(); n += 97) {
        for (auto& [name, value] : corpus.messages[n].headers) {
            if (name == "token") value = (n % 2 ? "phx_PersonalKey" : "phs_NeverIssued") + std::to_string(n);
        }
    }
    InputProducer producer(cluster, corpus);
    producer.produce(0, corpus.messages.size());
    REQUIRE(producer.flush(30s));

    auto worker = cluster.start_worker("audited", "worker", {"--audit-interval-ms", "300"}, "info");
    INFO("worker stderr:\n" << worker->stderr_tail());
    const int port = ops_port(*worker, 30s);
    REQUIRE(port > 0);
    GroupOffsets offsets(cluster, "audited");
    // An offset is committed only once the audit records counting it are acknowledged.
    REQUIRE(offsets.wait_all_committed(60s));
    std::map<std::string, double> metrics;
    for (const char* kind : {"forged_verified_stripped", "verified_with_backup_secret", "unknown_secret_token",
                             "personal_key_as_token", "token_owned_by_two_teams", "secret_redacted", "quota_limited"}) {
        metrics[kind] = metric_sum(port, std::string("warden_audit_occurrences_total{kind=\"") + kind + "\"}");
        REQUIRE(metrics[kind] >= 0);
    }
    const double stripped = metric_sum(port, "warden_verified_property_total{action=\"stripped\"}");
    const double records_sent = metric_sum(port, "warden_audit_records_total");
    CHECK(stop_worker(*worker) == 0);

    std::map<std::string, double> counted;
    size_t records = 0;
    for (const std::string& value : topic_values(cluster, cluster.audit_topic(), 1)) {
        ++records;
        rapidjson::Document d;
        d.Parse(value.c_str(), value.size());
        REQUIRE(d.IsObject());
        counted[d["kind"].GetString()] += d["count"].GetDouble();
        for (const char* fragment : {"phc_", "phs_", "phx_", "distinct_id", "$pageview", "uuid"}) {
            CHECK(value.find(fragment) == std::string::npos);
        }
    }
    for (const auto& [kind, count] : metrics) {
        CAPTURE(kind);
        CHECK(counted[kind] == count);
    }
    CHECK(counted["forged_verified_stripped"] == stripped);
    CHECK(metrics["forged_verified_stripped"] > 0);
    CHECK(metrics["verified_with_backup_secret"] > 0);
    CHECK(metrics["unknown_secret_token"] > 0);
    CHECK(metrics["personal_key_as_token"] > 0);
    CHECK(double(records) >= records_sent);  // a restart may send some again, never fewer
    MESSAGE("audit: " << records << " records for " << counted["forged_verified_stripped"] << " forged, "
                      << counted["verified_with_backup_secret"] << " backup, " << counted["unknown_secret_token"]
                      << " unknown secret, " << counted["personal_key_as_token"] << " personal key occurrences");
}

TEST_CASE("two workers in one group share the partitions and lose nothing") {
    TestCluster cluster;
    Corpus corpus = Corpus::generate(3, 6000);
    auto first = cluster.start_worker("pair", "first", {}, "info");
    INFO("first worker stderr:\n" << first->stderr_tail());
    REQUIRE(wait_for_assignment(*first, 30s));
    auto second = cluster.start_worker("pair", "second", {}, "info");
    INFO("second worker stderr:\n" << second->stderr_tail());
    // The second member's assignment ends the rebalance: both own partitions from now on.
    REQUIRE(wait_for_assignment(*second, 30s));

    InputProducer producer(cluster, corpus);
    PacedFeeder feeder(producer, 0, corpus.messages.size(), 500, 100ms);
    REQUIRE(feeder.finish(30s));
    GroupOffsets offsets(cluster, "pair");
    REQUIRE(offsets.wait_all_committed(60s));
    CHECK(stop_worker(*first) == 0);
    CHECK(stop_worker(*second) == 0);

    const int64_t first_consumed = summary_consumed(first->stdout_text());
    const int64_t second_consumed = summary_consumed(second->stdout_text());
    CHECK(first_consumed > 0);
    CHECK(second_consumed > 0);
    CHECK(first_consumed + second_consumed >= static_cast<int64_t>(corpus.messages.size()));
    const Comparison comparison = check_outputs(cluster, corpus);
    MESSAGE("two workers: " << first_consumed << " + " << second_consumed << " consumed, " << comparison.duplicates
                            << " duplicates");
}

TEST_CASE("SIGTERM under load exits 0 within the shutdown deadline, and a restart loses nothing") {
    constexpr auto shutdown_timeout = 5000ms;
    TestCluster cluster;
    Corpus corpus = Corpus::generate(6, 20000);
    const std::vector<std::string> flags = {"--shutdown-timeout-ms", std::to_string(shutdown_timeout.count())};
    auto worker = cluster.start_worker("shutdown", "stopped", flags, "info");
    INFO("stopped worker stderr:\n" << worker->stderr_tail());
    REQUIRE(wait_for_assignment(*worker, 30s));

    InputProducer producer(cluster, corpus);
    PacedFeeder feeder(producer, 0, corpus.messages.size(), 500, 100ms);
    std::this_thread::sleep_for(1500ms);
    const size_t queued_at_signal = feeder.queued();
    const auto signalled = Clock::now();
    worker->send(SIGTERM);
    const std::optional<int> exit_code = worker->wait_exit(shutdown_timeout + 30s);
    const auto shutdown_time = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - signalled);
    CHECK(queued_at_signal < corpus.messages.size());  // inputs were still arriving
    REQUIRE(exit_code);
    CHECK(*exit_code == 0);
    CHECK(shutdown_time <= shutdown_timeout);
    CHECK(summary_consumed(worker->stdout_text()) > 0);
    MESSAGE("graceful shutdown took " << shutdown_time.count() << " ms");

    REQUIRE(feeder.finish(30s));
    auto restarted = cluster.start_worker("shutdown", "restarted", flags);
    INFO("restarted worker stderr:\n" << restarted->stderr_tail());
    GroupOffsets offsets(cluster, "shutdown");
    REQUIRE(offsets.wait_all_committed(60s));
    CHECK(stop_worker(*restarted) == 0);
    const Comparison comparison = check_outputs(cluster, corpus);
    MESSAGE("graceful shutdown: " << comparison.duplicates << " duplicates after the restart");
}
