// key_usage: the `last_used_at` of project secret API keys, written off the hot path. The batches
// note which keys they saw; a thread of its own sends them in one statement per flush, at most
// once per key per interval, through a role that may update that column only (deploy/sql/005).
// A slow or absent database never holds up processing: noted keys wait in a bounded set, and
// those beyond it are counted as dropped.
#pragma once

#include <warden/teams.hpp>
#include <warden/token_digest.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>

namespace warden {

struct KeyUsageOptions {
    // A key's `last_used_at` is written at most once per interval (by this process, and by the
    // statement's own condition across a fleet).
    std::chrono::milliseconds interval{3'600'000};
    std::chrono::milliseconds flush_period{10'000};  // how often the noted keys are sent
    size_t max_pending = 10'000;                     // noted keys waiting to be sent; more are dropped
};

// What one write did: the keys' rows it updated, or why it failed.
struct KeyUsageWrite {
    bool ok = false;
    uint64_t updated = 0;  // rows whose last_used_at was older than the interval (or null)
    std::string error;     // when not ok; names no key
};

struct KeyUsageStats {
    uint64_t noted = 0;     // keys noted (those written within the interval are not)
    uint64_t sent = 0;      // keys sent in writes that succeeded
    uint64_t updated = 0;   // rows the writes updated
    uint64_t dropped = 0;   // keys not kept: the pending set was full
    uint64_t failures = 0;  // writes that failed (their keys are sent again)
    size_t pending = 0;
    std::string last_error;  // of the last write, empty once one succeeds
};

class KeyUsageRecorder {
public:
    // Sends the keys (never empty) in one statement. Runs on the recorder's thread only.
    using Writer = std::function<KeyUsageWrite(std::span<const TokenDigest> keys)>;
    using Clock = std::chrono::steady_clock;

    using Stats = KeyUsageStats;

    KeyUsageRecorder(KeyUsageOptions options, Writer writer);
    // Stops the thread, after one last flush unless the last write failed.
    ~KeyUsageRecorder();
    KeyUsageRecorder(const KeyUsageRecorder&) = delete;
    KeyUsageRecorder& operator=(const KeyUsageRecorder&) = delete;

    // Starts the thread that flushes every flush_period.
    void start();
    // Keys a batch used. Never waits for a write: it only takes a lock the thread holds briefly.
    void note(std::span<const TokenDigest> keys);
    // Sends the pending keys now, on the calling thread (the flushing thread's step; tests).
    void flush();
    Stats stats() const;

private:
    void run();
    // With mutex_ held. `newly_noted`: counted as noted (not when a failed write's keys come back).
    void keep_pending(std::span<const TokenDigest> keys, bool newly_noted);

    const KeyUsageOptions options_;
    Writer writer_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::unordered_set<TokenDigest, TokenDigestHash> pending_;
    // Keys written within the interval (pruned at each flush): not sent again before it ends.
    std::unordered_map<TokenDigest, Clock::time_point, TokenDigestHash> written_at_;
    Stats stats_;
    std::mutex flushing_;  // one write at a time
    std::thread thread_;
};

// The writer for PostgreSQL: one `UPDATE key_table SET last_used_at = now() FROM unnest($1)` per
// flush, matching `secure_value` ("sha256$" and the key's hex digest), on a connection of its own
// (reopened with backoff) with a short statement_timeout. `options.key_table` names the table;
// the role needs UPDATE (last_used_at) and SELECT (secure_value, last_used_at) on it.
// Throws std::invalid_argument, naming the setting but never a credential, on unusable options.
KeyUsageRecorder::Writer postgres_key_usage_writer(const PostgresStoreOptions& options,
                                                   std::chrono::milliseconds interval);

}  // namespace warden
