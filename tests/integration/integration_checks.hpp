// Checks shared by the integration test cases.
#pragma once

#include <doctest/doctest.h>

#include "kafka_test_support.hpp"

#include <csignal>

namespace itest {

// SIGTERM, then the exit code; -1 when the worker did not exit in time.
inline int stop_worker(ChildProcess& worker, Clock::duration timeout = 60s) {
    worker.send(SIGTERM);
    return worker.wait_exit(timeout).value_or(-1);
}

// Produces the whole corpus and waits until `group` committed all of it: the worker works.
inline bool processes_everything(const TestCluster& cluster, Corpus& corpus, const std::string& group,
                                 Clock::duration timeout) {
    InputProducer producer(cluster.brokers(), corpus);
    producer.produce(0, corpus.messages.size());
    if (!producer.flush(30s)) return false;
    GroupOffsets offsets(cluster.brokers(), group);
    return offsets.wait_all_committed(timeout);
}

// Checks that every output the offline pipeline expects is present at least once, that nothing
// else is, and that no secret token leaked; returns the comparison for its duplicate count.
inline Comparison check_outputs(const std::string& brokers, const std::string& teams_json, const Corpus& corpus) {
    const Expectation expected = expect(corpus, teams_json);
    const Outputs outputs = read_outputs(brokers);
    CHECK(outputs.complete);
    const Comparison comparison = compare(expected.records, outputs.records);
    CHECK(comparison.lost == 0);
    CHECK(comparison.unexpected == 0);
    CHECK(outputs.secret_leaks == 0);
    return comparison;
}

inline Comparison check_outputs(const TestCluster& cluster, const Corpus& corpus) {
    return check_outputs(cluster.brokers(), cluster.teams_json(), corpus);
}

}  // namespace itest
