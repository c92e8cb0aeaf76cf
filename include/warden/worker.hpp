// worker: `warden run`, a member of the consumer group that consumes the input topic, runs each
// batch through the core and delivers the outputs with an idempotent producer.
#pragma once

#include <warden/audit.hpp>
#include <warden/core.hpp>
#include <warden/kafka_properties.hpp>
#include <warden/key_usage.hpp>
#include <warden/processing_guarantee.hpp>
#include <warden/quota.hpp>
#include <warden/teams.hpp>
#include <warden/worker_stats.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace warden {

// The members of one process (`run --threads`) leave the group together: each waits here after
// its last commit, before leaving, until every member has committed or failed, so that no
// member's last commit meets the rebalance another member's leaving starts.
class DepartureGate {
public:
    explicit DepartureGate(size_t members) : arrived_(members, false) {}

    // Member `member` is done committing; waits for the others until `deadline`.
    void arrive_and_wait(size_t member, std::chrono::steady_clock::time_point deadline);
    // Member `member` will not come (it failed); the others stop waiting for it.
    void arrive(size_t member);

private:
    std::mutex mutex_;
    std::condition_variable all_arrived_;
    std::vector<bool> arrived_;
};

struct WorkerOptions {
    std::string brokers;
    std::string group = "warden";
    std::string input_topic = "events_plugin_ingestion";
    std::string group_instance_id;  // static membership when non-empty
    TopicNames topics;
    CoreLimits limits;
    KafkaProperties consumer_properties;  // passed through last, so they override warden's choices
    KafkaProperties producer_properties;

    ProcessingGuarantee guarantee = ProcessingGuarantee::at_least_once;
    std::string transactional_id;                         // exactly-once: this instance's producer identity
    std::chrono::milliseconds transaction_interval{100};  // exactly-once: how long a transaction collects batches

    size_t batch_size = 2000;                            // messages per processing batch
    std::chrono::milliseconds batch_wait{20};            // longest wait to fill a batch
    size_t max_in_flight = 100'000;                      // unacknowledged outputs before fetching pauses
    std::chrono::milliseconds shutdown_timeout{30'000};  // drain deadline after SIGTERM/SIGINT
    std::chrono::milliseconds revoke_timeout{10'000};    // drain deadline of revoked partitions
    std::chrono::milliseconds lag_interval{2'000};       // how often watermarks are queried for lag

    // With several members in one process (`run --threads`): how many, this one's index, and the
    // gate they leave the group through.
    size_t member_count = 1;
    size_t member_index = 0;
    std::shared_ptr<DepartureGate> departure_gate;

    // The quota stage's limits (warden/quota.hpp); null: none. Outlives the worker.
    const QuotaSource* quota = nullptr;
    // Where the project secret API keys presented are noted (warden/key_usage.hpp); null: nowhere.
    // Shared by the members of one process; outlives the worker.
    KeyUsageRecorder* key_usage = nullptr;

    // The security audit trail (warden/audit.hpp): its records go to `audit_topic`, unless that is
    // empty. Members of one process share the key; none: a random one of this worker.
    std::string audit_topic = std::string(default_audit_topic);
    AuditOptions audit;
    std::optional<FingerprintKey> audit_key;
    // Admin endpoint calls, recorded by the first member's audit trail; null: none.
    std::shared_ptr<AdminAuditInbox> admin_audit;
};

// The worker's consumer settings: brokers, group, cooperative-sticky assignment, offsets stored
// only after acknowledgement (at-least-once) or committed by transactions only (exactly-once), the
// pre-fetch caps, then `options.consumer_properties`.
KafkaProperties worker_consumer_properties(const WorkerOptions& options);

// The worker's producer settings: warden's (idempotent, acks=all, the record size limit, the
// transactional id for exactly-once), then `options.producer_properties`.
KafkaProperties worker_producer_properties(const WorkerOptions& options);

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

}  // namespace warden
