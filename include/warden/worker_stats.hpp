// worker_stats: the figures of a running worker, as metrics and readiness read them.
#pragma once

#include <warden/audit.hpp>
#include <warden/core.hpp>
#include <warden/histogram.hpp>
#include <warden/key_usage.hpp>
#include <warden/teams.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace warden {

// The quota limits' source, when it refreshes in the background (Redis): what readiness and the
// quota metrics read. Not filled otherwise.
struct QuotaStats {
    bool refreshed = false;      // a source that refreshes is configured
    bool loaded = false;         // a set was read since start
    bool wait_for_first = true;  // --quota-startup wait: nothing is consumed before the first set
    std::chrono::steady_clock::time_point loaded_at{};
    uint64_t failures = 0;
    uint64_t limits[quota_resource_count] = {};  // members in force, per resource
    std::string last_error;                      // of the last failed refresh
};

// A consistent copy of the worker's figures, safe to take from another thread.
struct WorkerStats {
    OutcomeCounters outcomes;
    uint64_t consumed_bytes = 0;                      // keys + values of consumed messages
    uint64_t produced_bytes[destination_count] = {};  // keys + values of produced outputs
    uint64_t batches = 0;
    LatencyHistogram batch_latency;  // from a batch's processing start to all its outputs queued
    uint64_t delivered = 0;          // outputs acknowledged by the broker
    uint64_t delivery_errors = 0;    // failed delivery reports (each is retried)
    uint64_t store_waits = 0;        // batches that waited for an unavailable team store
    uint64_t rebalances = 0;
    uint64_t commit_failures = 0;
    uint64_t transactions_committed = 0;    // exactly-once only
    uint64_t transactions_aborted = 0;      // each redoes its inputs from the committed offsets
    LatencyHistogram transaction_duration;  // from a transaction's begin to its commit or abort
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
    // Time spent waiting for input while the broker held more than was fetched (fetch stalls).
    std::chrono::steady_clock::duration fetch_stall{};
    std::chrono::steady_clock::time_point last_progress{};          // the processing loop's last turn
    std::chrono::steady_clock::time_point last_delivery{};          // the last acknowledged output
    std::chrono::steady_clock::time_point outputs_waiting_since{};  // in_flight last went from 0 to more
    TeamCache::Stats team_cache;
    std::map<int32_t, int64_t> lag;  // per assigned partition: high watermark − committable offset
    QuotaStats quota;
    std::optional<KeyUsageStats> key_usage;  // with --project-key-usage-postgres
    AuditCounts audit_occurrences{};         // security-relevant occurrences the audit trail counted, by kind
    uint64_t audit_records = 0;              // audit records sent
};

}  // namespace warden
