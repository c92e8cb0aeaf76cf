// pipeline: a batch of consumed messages through token lookup, team resolution and the core.
#pragma once

#include <warden/audit.hpp>
#include <warden/core.hpp>
#include <warden/key_usage.hpp>
#include <warden/quota.hpp>
#include <warden/retry_policy.hpp>
#include <warden/team_resolution.hpp>
#include <warden/teams.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

namespace warden {

// Runs batches through the core with one team lookup per batch. Not thread-safe: one per worker.
class BatchProcessor {
public:
    using WallClock = std::function<int64_t()>;  // epoch milliseconds, for dead-letter stamps

    explicit BatchProcessor(TeamCache& cache, TopicNames topics = {}, CoreLimits limits = {},
                            WallClock wall_clock = nullptr);

    // `store_unavailable`: the team store failed in a way that passes (down, restarting);
    // `store_failed`: in a way only an operator can fix (see StoreFailure). Neither drops anything.
    enum class Status { done, store_unavailable, store_failed };

    // Appends one outcome per message to `out`, in order. Unless `done`, nothing is appended: the
    // caller keeps the batch and retries it after a backoff, or gives up (see StoreWaiter).
    Status process(std::span<const MessageView> batch, BatchResult& out);

    // Whether the team store can answer (TeamStore::check): `done` when it can.
    Status check_store();
    // What a failed store call of `cache` means for a batch: unavailable or failed.
    static Status failure_status(const TeamCache& cache);

    TeamCache& cache() const { return cache_; }

    // The quota stage: events of teams over their quota are dropped as quota_limited from the
    // next batch on (see warden/quota.hpp). The source must outlive the processor; null: none.
    void set_quota(const QuotaSource* quota) { quota_ = quota; }
    // The audit trail observes every message's resolution and outcome (MessageOutcome::audit_hold
    // says which offsets it holds). It must outlive the processor; null: none.
    void set_audit(AuditTrail* audit) { audit_ = audit; }
    AuditTrail* audit() const { return audit_; }
    // Notes the project secret API keys each batch presented, for their `last_used_at`. It must
    // outlive the processor; null: none.
    void set_key_usage(KeyUsageRecorder* key_usage) { key_usage_ = key_usage; }

    const TopicNames& topics() const { return processor_.topics(); }

private:
    TeamCache& cache_;
    EventProcessor processor_;
    WallClock wall_clock_;
    TeamResolution teams_;
    const QuotaSource* quota_ = nullptr;
    AuditTrail* audit_ = nullptr;
    KeyUsageRecorder* key_usage_ = nullptr;
    std::unordered_map<const Team*, QuotaFlags> quota_of_team_;  // this batch's decisions
};

// The error that ends a command whose team store failed permanently, with the cause.
std::runtime_error store_failed_error(const TeamCache& cache);

// Waits for the team store on behalf of the commands that end (`process`, `replay`): an attempt
// that finds the store unavailable is retried as the policy allows, one that finds it failed
// ends the wait at once. The cause is logged at the first retry, when it changes, and once per
// report interval (RetryPolicy::report_due).
class StoreWaiter {
public:
    // Sleeps for the given time; returns false when the command is stopping (the wait is abandoned).
    using Sleep = std::function<bool(std::chrono::milliseconds)>;

    // `cache` is the one the attempts use: its last error is the cause reported.
    StoreWaiter(TeamCache& cache, RetryPolicy::Options policy, Sleep sleep = nullptr);

    // Repeats `attempt` until it returns `done` (true) or the sleep is abandoned (false). Throws
    // std::runtime_error saying what failed and what to do on a permanent failure, or when the
    // store stays unavailable past the policy's `give_up_after`.
    bool until_done(const std::function<BatchProcessor::Status()>& attempt);

    // Before consuming: until TeamCache::check_store succeeds, as until_done.
    bool until_store_answers();

private:
    TeamCache& cache_;
    RetryPolicy retry_;
    Sleep sleep_;
};

}  // namespace warden
