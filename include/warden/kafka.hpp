// kafka: the Kafka runtime. Offset bookkeeping, the consumer-group worker behind `warden run`,
// and librdkafka's mock cluster for the demo, tests and benchmarks.
#pragma once

#include <warden/core.hpp>
#include <warden/offset_tracker.hpp>
#include <warden/histogram.hpp>
#include <warden/teams.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct rd_kafka_mock_cluster_s;

namespace warden {

// librdkafka properties applied in order; a later entry overrides an earlier one.
using KafkaProperties = std::vector<std::pair<std::string, std::string>>;

// Parses "name=value" (a name of letters, digits, '.', '_', '-'); throws std::invalid_argument
// saying what is wrong, never quoting the text, which may hold a credential.
std::pair<std::string, std::string> parse_kafka_property(std::string_view text);

struct WorkerOptions {
    std::string brokers;
    std::string group = "warden";
    std::string input_topic = "events_plugin_ingestion";
    std::string group_instance_id;  // static membership when non-empty
    TopicNames topics;
    CoreLimits limits;
    KafkaProperties consumer_properties;  // passed through last, so they override warden's choices
    KafkaProperties producer_properties;

    size_t batch_size = 2000;                     // messages per processing batch
    std::chrono::milliseconds batch_wait{20};     // longest wait to fill a batch
    size_t max_in_flight = 100'000;               // unacknowledged outputs before fetching pauses
    std::chrono::milliseconds shutdown_timeout{30'000};  // drain deadline after SIGTERM/SIGINT
    std::chrono::milliseconds revoke_timeout{10'000};    // drain deadline of revoked partitions
    std::chrono::milliseconds lag_interval{2'000};       // how often watermarks are queried for lag
};

// The worker's consumer settings: brokers, group, cooperative-sticky assignment, offsets stored
// only after acknowledgement, the pre-fetch caps, then `options.consumer_properties`.
KafkaProperties worker_consumer_properties(const WorkerOptions& options);

// A consistent copy of the worker's figures, safe to take from another thread.
struct WorkerStats {
    OutcomeCounters outcomes;
    uint64_t consumed_bytes = 0;                       // keys + values of consumed messages
    uint64_t produced_bytes[destination_count] = {};   // keys + values of produced outputs
    uint64_t batches = 0;
    LatencyHistogram batch_latency;  // from a batch's processing start to all its outputs queued
    uint64_t delivered = 0;         // outputs acknowledged by the broker
    uint64_t delivery_errors = 0;   // failed delivery reports (each is retried)
    uint64_t store_waits = 0;       // batches that waited for an unavailable team store
    uint64_t rebalances = 0;
    uint64_t commit_failures = 0;
    size_t assigned_partitions = 0;
    size_t in_flight = 0;           // outputs produced, not yet acknowledged
    size_t producer_queue = 0;      // messages in librdkafka's producer queue
    bool paused = false;            // fetching paused (backpressure or team store away)
    bool store_available = true;    // false while the team store does not answer (a batch may wait)
    std::string store_error;        // why, while store_available is false
    bool brokers_reached = false;   // the brokers answered, and nothing since says they stopped
    std::string broker_issue;       // why they count as unreached, in librdkafka's words (redacted)
    bool group_joined = false;      // an assignment (an empty one too) came since the last loss
    bool group_lost = false;        // the group moved on without this member; it is rejoining
    uint64_t dead_letters_cut = 0;  // dead letters cut to the size the producer or broker accepts
    std::chrono::steady_clock::time_point last_progress{};  // the processing loop's last turn
    std::chrono::steady_clock::time_point last_delivery{};  // the last acknowledged output
    std::chrono::steady_clock::time_point outputs_waiting_since{};  // in_flight last went from 0 to more
    TeamCache::Stats team_cache;
    std::map<int32_t, int64_t> lag;  // per assigned partition: high watermark − committable offset
};

// Consumes the input topic as a member of a consumer group, runs each batch through the core and
// produces the outputs with an idempotent producer. An input offset is committed only when it and
// every earlier offset of its partition are fully acknowledged (SPEC §7).
class Worker {
public:
    // Throws std::runtime_error on configuration librdkafka refuses.
    Worker(WorkerOptions options, TeamCache& cache);
    ~Worker();
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    // Waits for the brokers (however long: readiness says why meanwhile), requires the input and
    // output topics, then runs until request_stop(): stops fetching, drains in-flight outputs (up
    // to the shutdown timeout), commits and leaves the group. Throws std::runtime_error when a
    // topic does not exist and on a fatal client error; offsets past unacknowledged work are
    // never committed either way.
    void run();

    // Safe from a signal handler and from other threads.
    void request_stop() { stop_.store(true, std::memory_order_relaxed); }

    WorkerStats stats() const;

private:
    class Impl;
    std::atomic<bool> stop_{false};
    std::unique_ptr<Impl> impl_;
};

// Where a replay range starts or ends (SPEC §8).
struct OffsetSpec {
    enum class Kind { earliest, latest, offset, timestamp };
    Kind kind = Kind::earliest;
    int64_t value = 0;  // the offset, or epoch milliseconds
};

// `earliest`, `latest`, an offset, or a time: ISO 8601 UTC (`2024-06-10T06:13:20Z`, optional
// fraction, `Z` or `±hh:mm`) or epoch milliseconds. A bare number below 10^12 is an offset, from
// 10^12 on epoch milliseconds; `offset:N` and `time:MS` say it explicitly. Throws
// std::invalid_argument naming the text.
OffsetSpec parse_offset_spec(std::string_view text);

struct ReplayOptions {
    std::string brokers;
    std::string topic = "events_plugin_ingestion";
    OffsetSpec from{OffsetSpec::Kind::earliest, 0};
    OffsetSpec to{OffsetSpec::Kind::latest, 0};  // exclusive
    std::vector<int32_t> partitions;              // empty: all
    TopicNames topics;
    CoreLimits limits;
    KafkaProperties consumer_properties;
    KafkaProperties producer_properties;
    double max_rate = 0;          // events per second; 0: unlimited
    bool dry_run = false;         // compute outcomes, produce nothing
    std::string checkpoint_path;  // empty: no checkpoint
    size_t batch_size = 1000;
    std::chrono::milliseconds progress_interval{1000};
    std::chrono::milliseconds shutdown_timeout{30'000};
    std::chrono::milliseconds store_wait_timeout{300'000};  // then an unavailable team store ends the replay
    std::chrono::milliseconds broker_wait{60'000};  // longest wait for the brokers' first answer
};

// The replay's consumer settings: brokers, a group id that is never joined, no commits, end of
// partition events, the pre-fetch caps, then `options.consumer_properties`.
KafkaProperties replay_consumer_properties(const ReplayOptions& options);

// One partition's range and how far the replay got.
struct PartitionProgress {
    int32_t partition = 0;
    int64_t start = 0;     // first offset of the range
    int64_t end = 0;       // exclusive, fixed when the range was first resolved
    int64_t consumed = 0;  // next offset to read
    int64_t acked = 0;     // every offset below is fully acknowledged (what a checkpoint records)
    bool done = false;     // read up to `end`
};

struct ReplayProgress {
    OutcomeCounters outcomes;
    std::vector<PartitionProgress> partitions;
    std::chrono::steady_clock::duration elapsed{};
    bool resumed = false;   // ranges came from a checkpoint
    bool complete = false;  // every partition done and every output acknowledged
};

// Replays a fixed offset range of a topic through the core with direct partition assignment (no
// consumer group, so live workers are untouched), producing to the output topics with a header
// `replayed: true`. Outputs are deterministic (same keys and uuids for the same input).
class Replayer {
public:
    using ProgressSink = std::function<void(const ReplayProgress&)>;
    // Throws std::runtime_error on configuration librdkafka refuses.
    Replayer(ReplayOptions options, TeamCache& cache);
    ~Replayer();
    Replayer(const Replayer&) = delete;
    Replayer& operator=(const Replayer&) = delete;

    // Resolves the ranges (or takes them from the checkpoint), replays them and returns the final
    // progress; `progress` is called every progress_interval. Throws std::runtime_error when the
    // brokers do not answer within broker_wait, when the topic or an output topic does not exist,
    // when a range cannot be resolved or turns out inverted, or when the checkpoint was written
    // for another topic or range, or by a version that did not record its range. Throws too when the team store fails for good or stays unavailable
    // past store_wait_timeout; the checkpoint last written stays valid, so a rerun resumes.
    ReplayProgress run(const ProgressSink& progress);

    // Safe from a signal handler: stops reading, drains, writes the checkpoint.
    void request_stop() { stop_.store(true, std::memory_order_relaxed); }

private:
    class Impl;
    std::atomic<bool> stop_{false};
    std::unique_ptr<Impl> impl_;
};

// librdkafka's in-process mock cluster: real Kafka protocol on loopback, for the demo, tests and
// benchmarks. Not a broker for production.
class MockCluster {
public:
    // Throws std::runtime_error when the cluster cannot be started.
    explicit MockCluster(int brokers = 1);
    ~MockCluster();
    MockCluster(const MockCluster&) = delete;
    MockCluster& operator=(const MockCluster&) = delete;

    // The bootstrap address list, usable by any Kafka client on this machine.
    const std::string& bootstraps() const { return bootstraps_; }
    // Create topics before clients use them: auto-created topics get 4 partitions and stall the
    // first produce.
    void create_topic(const std::string& name, int partitions);
    // For fault injection with rdkafka_mock.h.
    rd_kafka_mock_cluster_s* handle() const { return cluster_; }

private:
    struct Client;
    std::unique_ptr<Client> client_;
    rd_kafka_mock_cluster_s* cluster_ = nullptr;
    std::string bootstraps_;
};

}  // namespace warden
