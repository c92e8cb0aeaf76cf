// Checks shared by the integration test cases.
#pragma once

#include <doctest/doctest.h>

#include "kafka_test_support.hpp"

#include <csignal>

namespace itest {

// True, with a message saying so, when the tests run against a real broker and the test case
// needs what only the mock cluster offers (`needs`: fault injection, say): the caller returns.
inline bool skipped_on_real_broker(const char* needs) {
    if (!real_broker()) return false;
    MESSAGE("skipped on the real broker: needs " << std::string(needs));
    return true;
}

// True, with a message saying so, when the tests run against the mock cluster and the test case
// needs a real broker (`needs`: what the mock lacks).
inline bool skipped_on_mock_cluster(const char* needs) {
    if (real_broker()) return false;
    MESSAGE("skipped on the mock cluster: needs a real broker for " << std::string(needs));
    return true;
}

// SIGTERM, then the exit code; -1 when the worker did not exit in time.
inline int stop_worker(ChildProcess& worker, Clock::duration timeout = 60s) {
    worker.send(SIGTERM);
    return worker.wait_exit(timeout).value_or(-1);
}

// Produces the whole corpus and waits until `group` committed all of it: the worker works.
inline bool processes_everything(const TestCluster& cluster, Corpus& corpus, const std::string& group,
                                 Clock::duration timeout) {
    InputProducer producer(cluster, corpus);
    producer.produce(0, corpus.messages.size());
    if (!producer.flush(30s)) return false;
    GroupOffsets offsets(cluster, group);
    return offsets.wait_all_committed(timeout);
}

// Checks that every output the offline pipeline expects is present at least once, that nothing
// else is, and that no secret token leaked; returns the comparison for its duplicate count.
inline Comparison check_outputs(const TestCluster& cluster, const Corpus& corpus) {
    const Expectation expected = expect(corpus, cluster);
    const Outputs outputs = read_outputs(cluster);
    CHECK(outputs.complete);
    const Comparison comparison = compare(expected.records, outputs.records);
    for (const std::string& lost : comparison.lost_examples) {
        // Its uuid says whether the input it came from was ever in the input topic, and whether
        // its topic holds some other record of that event (another form, or uncommitted).
        const size_t at = lost.find("\"uuid\":\"");
        const std::string uuid = at == std::string::npos ? std::string() : lost.substr(at + 8, 36);
        const std::string topic = lost.substr(0, lost.find('\n'));
        const std::string in_topic =
            uuid.empty() ? std::string() : find_in_topic(cluster, topic, cluster.output_partitions(), uuid);
        MESSAGE("lost output (input " << (uuid.empty() ? "unknown" : find_input(cluster, uuid)) << "; in " << topic
                                      << ": " << (in_topic.empty() ? "nothing" : in_topic) << "):\n"
                                      << lost.substr(0, 600));
    }
    CHECK(comparison.lost == 0);
    CHECK(comparison.unexpected == 0);
    CHECK(outputs.secret_leaks == 0);
    return comparison;
}

}  // namespace itest
