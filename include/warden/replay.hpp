// replay: `warden replay`, a fixed offset range of a topic through the core again, with direct
// partition assignment (no consumer group), a rate limit and a checkpoint to resume from.
#pragma once

#include <warden/core.hpp>
#include <warden/kafka_properties.hpp>
#include <warden/offset_spec.hpp>
#include <warden/processing_guarantee.hpp>
#include <warden/teams.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace warden {

struct ReplayOptions {
    std::string brokers;
    std::string topic = "events_plugin_ingestion";
    OffsetSpec from{OffsetSpec::Kind::earliest, 0};
    OffsetSpec to{OffsetSpec::Kind::latest, 0};  // exclusive
    std::vector<int32_t> partitions;             // empty: all
    TopicNames topics;
    CoreLimits limits;
    KafkaProperties consumer_properties;
    KafkaProperties producer_properties;
    double max_rate = 0;          // events per second; 0: unlimited
    bool dry_run = false;         // compute outcomes, produce nothing
    std::string checkpoint_path;  // empty: no checkpoint; exactly-once needs one
    // Exactly-once: the outputs and each partition's progress commit in one transaction. The
    // progress is committed as offsets of the consumer group named `transactional_id` (never
    // joined), which a resumed run reads back; the checkpoint fixes the ranges and the identity.
    ProcessingGuarantee guarantee = ProcessingGuarantee::at_least_once;
    std::string transactional_id;  // exactly-once: the checkpoint's, else a new one (replay_transactional_id)
    std::chrono::milliseconds transaction_interval{1000};
    size_t batch_size = 1000;
    std::chrono::milliseconds progress_interval{1000};
    std::chrono::milliseconds shutdown_timeout{30'000};
    std::chrono::milliseconds store_wait_timeout{300'000};  // then an unavailable team store ends the replay
    std::chrono::milliseconds broker_wait{60'000};          // longest wait for the brokers' first answer
    // A redrive (`warden dlq redrive`) when above 0: `topic` holds dead letters, each sent through
    // as the input it was (ConsumedViews::dead_letter_views) unless it was dead-lettered this many
    // times already, lost part of itself to the size limit, or is an enriched output the brokers
    // refused rather than an input; what fails again is dead-lettered with dlq_attempts one higher.
    uint32_t redrive_max_attempts = 0;
};

// The replay's consumer settings: brokers, a group id that is never joined (exactly-once: the
// one its progress is committed to), no commits, end of partition events, the pre-fetch caps,
// then `options.consumer_properties`.
KafkaProperties replay_consumer_properties(const ReplayOptions& options);
// Its producer settings, as the worker's (transactional for exactly-once); none for a dry run,
// which produces nothing.
KafkaProperties replay_producer_properties(const ReplayOptions& options);

// The transactional id of an exactly-once replay: the one its checkpoint recorded, so that a
// resumed run fences a predecessor still running and finds its committed progress; else a new
// one, unique to this replay. Throws std::runtime_error when the checkpoint cannot be read.
std::string replay_transactional_id(const ReplayOptions& options);

// One partition's range and how far the replay got.
struct PartitionProgress {
    int32_t partition = 0;
    int64_t start = 0;     // first offset of the range
    int64_t end = 0;       // exclusive, fixed when the range was first resolved
    int64_t consumed = 0;  // next offset to read
    int64_t acked = 0;     // every offset below is fully acknowledged (exactly-once: committed)
    bool done = false;     // read up to `end`
};

struct ReplayProgress {
    OutcomeCounters outcomes;
    std::vector<PartitionProgress> partitions;
    std::chrono::steady_clock::duration elapsed{};
    uint64_t redrive_exhausted = 0;  // dead letters not sent through: attempts used up
    uint64_t redrive_truncated = 0;  // dead letters not sent through: cut to fit when dead-lettered
    uint64_t redrive_outputs = 0;    // dead letters not sent through: outputs the brokers refused
    bool resumed = false;            // ranges came from a checkpoint
    bool complete = false;           // every partition done and every output acknowledged
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
    // for another topic or range, or by a version that did not record its range. Throws too when the team store fails
    // for good or stays unavailable past store_wait_timeout; the checkpoint last written stays valid, so a rerun
    // resumes.
    ReplayProgress run(const ProgressSink& progress);

    // Safe from a signal handler: stops reading, drains, writes the checkpoint.
    void request_stop() { stop_.store(true, std::memory_order_relaxed); }

private:
    class Impl;
    std::atomic<bool> stop_{false};
    std::unique_ptr<Impl> impl_;
};

// Why the checkpoint of `options` cannot serve this replay (written for another topic, range or
// processing guarantee, or by a version that did not record its range), saying that deleting it
// starts afresh. Empty when it can, or when there is none. Throws std::runtime_error when it
// cannot be read.
std::string replay_checkpoint_mismatch(const ReplayOptions& options);

}  // namespace warden
