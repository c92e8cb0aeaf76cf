// `warden run` against a real three-node Kafka cluster (run under tests/support/with_kafka.sh
// --nodes 3) while the node leading most of its partitions is killed mid-stream and restarted.
// With acks=all and min.insync.replicas=2 an acknowledged output survives the loss of its leader,
// so the worker loses nothing and recovers without being restarted (SPEC §7: duplicates allowed).
#include <doctest/doctest.h>

#include "integration_checks.hpp"
#include "kafka/watermarks.hpp"
#include "kafka_test_support.hpp"

#include <warden/kafka_handles.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <numeric>

using namespace itest;

namespace {

constexpr const char* group = "failover";

std::string required_env(const char* name) {
    const char* value = std::getenv(name);
    if (!value || !*value) FAIL(name << " is not set: run this test under tests/support/with_kafka.sh --nodes 3");
    return value;
}

// The nodes with_kafka.sh started, and its failover commands.
struct ClusterNodes {
    std::string control = required_env("WARDEN_TEST_KAFKA_CONTROL");
    std::filesystem::path nodes_dir = required_env("WARDEN_TEST_KAFKA_NODES_DIR");

    // `command` is kill (SIGKILL), stop (SIGTERM) or start; true when it succeeded.
    bool node(const std::string& command, int32_t node_id) const {
        return std::system((control + " " + command + " " + std::to_string(node_id)).c_str()) == 0;
    }

    // A line of the node's directory: its pid or its port.
    std::string node_file(int32_t node_id, const char* name) const {
        std::ifstream file(nodes_dir / ("node-" + std::to_string(node_id)) / name);
        std::string text;
        file >> text;
        return text;
    }

    // VmRSS and VmHWM (the peak) of a node's JVM, for the record of what the cluster costs.
    std::string jvm_memory(int32_t node_id) const {
        const std::string pid = node_file(node_id, "pid");
        std::ifstream status("/proc/" + pid + "/status");
        std::string text;
        for (std::string line; std::getline(status, line);) {
            if (line.rfind("VmRSS:", 0) == 0 || line.rfind("VmHWM:", 0) == 0) text += line + " ";
        }
        return text.empty() ? "not running" : text;
    }
};

// How many partitions of the input and output topics each node leads, from one metadata request.
std::map<int32_t, int> partitions_led(const TestCluster& cluster) {
    warden::kafka::ClientPtr client = warden::kafka::make_client(
        RD_KAFKA_PRODUCER, warden::kafka::make_conf({{"bootstrap.servers", cluster.brokers()}}));
    const rd_kafka_metadata_t* raw = nullptr;
    REQUIRE(rd_kafka_metadata(client.get(), 1, nullptr, &raw, 10'000) == RD_KAFKA_RESP_ERR_NO_ERROR);
    const warden::kafka::MetadataPtr metadata(raw);
    std::vector<std::string> topics = cluster.output_topics();
    topics.emplace_back(cluster.input_topic());
    std::map<int32_t, int> led;
    for (int t = 0; t < metadata->topic_cnt; ++t) {
        const rd_kafka_metadata_topic_t& topic = metadata->topics[t];
        if (std::find(topics.begin(), topics.end(), topic.topic) == topics.end()) continue;
        for (int p = 0; p < topic.partition_cnt; ++p) ++led[topic.partitions[p].leader];
    }
    return led;
}

// The input partitions' end offsets; empty when a leader did not answer in time. Not
// GroupOffsets::end_offsets: librdkafka 2.0's rd_kafka_query_watermark_offsets can wait for a
// leader that is down long past its timeout. A client of its own each time, since a client that
// only lists offsets keeps asking the leader it knew, dead or not.
std::vector<int64_t> input_end_offsets(const TestCluster& cluster) {
    const warden::kafka::ClientPtr client = warden::kafka::make_client(
        RD_KAFKA_PRODUCER, warden::kafka::make_conf({{"bootstrap.servers", cluster.brokers()}}));
    std::vector<int32_t> partitions(input_partitions);
    std::iota(partitions.begin(), partitions.end(), 0);
    std::map<int32_t, warden::kafka::Watermarks> watermarks;
    if (warden::kafka::query_watermarks(client.get(), cluster.input_topic(), partitions, 5s, watermarks)) return {};
    std::vector<int64_t> ends;
    for (int32_t p : partitions) ends.push_back(watermarks[p].high);
    return ends;
}

// Whether every input partition's committed offset reached `ends`; false while the coordinator
// cannot be asked.
bool committed_up_to(GroupOffsets& offsets, const std::vector<int64_t>& ends) {
    const std::vector<int64_t> committed = offsets.committed();
    if (ends.empty() || committed.size() != ends.size()) return false;
    for (size_t p = 0; p < ends.size(); ++p) {
        if (committed[p] < ends[p]) return false;
    }
    return true;
}

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

TEST_CASE("the node leading most partitions killed mid-stream: nothing is lost and the worker recovers in place") {
    const ClusterNodes nodes;
    const TestCluster cluster;
    auto worker_process = cluster.start_worker(group, "worker", {}, "info");
    ChildProcess& worker = *worker_process;
    INFO("worker stderr:\n" << worker.stderr_tail());
    REQUIRE(wait_for_assignment(worker, 60s));

    // ~50 s of input at 1,000 events/s: traffic before the kill, while the node is down, and
    // after it is back.
    Corpus corpus = Corpus::generate(11, 50'000);
    InputProducer producer(cluster, corpus);
    PacedFeeder feeder(producer, 0, corpus.messages.size(), 100, 100ms);
    GroupOffsets offsets(cluster, group);
    const auto input_ends = [&] {
        std::vector<int64_t> ends;
        REQUIRE(wait_until([&] { return !(ends = input_end_offsets(cluster)).empty(); }, 30s));
        return ends;
    };
    REQUIRE(wait_until([&] { return feeder.queued() >= 5'000; }, 30s));
    const std::vector<int64_t> ends_before = input_ends();
    REQUIRE(wait_until([&] { return committed_up_to(offsets, ends_before); }, 60s, 200ms));  // steady state

    const std::map<int32_t, int> led = partitions_led(cluster);
    const auto busiest =
        std::max_element(led.begin(), led.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
    REQUIRE(busiest != led.end());
    const int32_t victim = busiest->first;
    MESSAGE("killing node " << victim << ", leader of " << busiest->second << " of the input and output partitions");

    const std::vector<int64_t> ends_at_kill = input_ends();
    const auto killed_at = Clock::now();
    REQUIRE(nodes.node("kill", victim));
    // Recovered: everything fed before the kill is committed, with the node still down.
    INFO("end offsets at the kill " << offsets_text(ends_at_kill) << ", committed "
                                    << offsets_text(offsets.committed()));
    REQUIRE(wait_until([&] { return committed_up_to(offsets, ends_at_kill); }, 90s, 100ms));
    const auto recovery = Clock::now() - killed_at;
    CHECK_FALSE(worker.wait_exit(0s).has_value());  // the same worker throughout
    // The kill hit the worker's own connections.
    const std::string victim_address = "127.0.0.1:" + nodes.node_file(victim, "port") + "/" + std::to_string(victim);
    CHECK(worker.stderr_text().find(victim_address + ": Disconnected") != std::string::npos);

    // It keeps up with what arrives while the node is down.
    const std::vector<int64_t> ends_while_down = input_ends();
    REQUIRE(ends_while_down != ends_at_kill);  // the input kept coming
    REQUIRE(wait_until([&] { return committed_up_to(offsets, ends_while_down); }, 60s, 200ms));

    const auto restart_at = Clock::now();
    REQUIRE(nodes.node("start", victim));
    const auto restart = Clock::now() - restart_at;
    REQUIRE(feeder.finish(120s));
    const std::vector<int64_t> ends = input_ends();
    REQUIRE(wait_until([&] { return committed_up_to(offsets, ends); }, 120s, 200ms));
    CHECK_FALSE(worker.wait_exit(0s).has_value());
    for (int32_t node = 1; node <= 3; ++node) std::printf("node %d JVM: %s\n", node, nodes.jvm_memory(node).c_str());
    CHECK(stop_worker(worker) == 0);

    const Comparison comparison = check_outputs(cluster, corpus);
    std::printf(
        "failover: %zu inputs, node %d killed; everything before the kill committed %.1f s later; "
        "restart took %.1f s; %zu lost, %zu duplicates\n",
        corpus.messages.size(), victim, seconds(recovery), seconds(restart), comparison.lost, comparison.duplicates);
    std::fflush(stdout);
}
