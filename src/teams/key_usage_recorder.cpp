// The recorder of project keys' use: a bounded set of noted keys, and the thread that sends them.
#include <warden/key_usage.hpp>
#include <warden/log.hpp>

#include <exception>
#include <vector>

namespace warden {

KeyUsageRecorder::KeyUsageRecorder(KeyUsageOptions options, Writer writer)
    : options_(options), writer_(std::move(writer)) {}

KeyUsageRecorder::~KeyUsageRecorder() {
    {
        const std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    // The keys of the last moments, unless the database is known to be away (no wait for it then).
    if (stats().last_error.empty()) flush();
}

void KeyUsageRecorder::start() {
    thread_ = std::thread([this] { run(); });
}

void KeyUsageRecorder::run() {
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, options_.flush_period, [this] { return stopping_; })) {
        lock.unlock();
        flush();
        lock.lock();
    }
}

void KeyUsageRecorder::note(std::span<const TokenDigest> keys) {
    if (keys.empty()) return;
    const auto now = Clock::now();
    const std::lock_guard lock(mutex_);
    for (const TokenDigest& key : keys) {
        const auto written = written_at_.find(key);
        if (written != written_at_.end() && now - written->second < options_.interval) continue;
        keep_pending({&key, 1}, true);
    }
}

void KeyUsageRecorder::keep_pending(std::span<const TokenDigest> keys, bool newly_noted) {
    for (const TokenDigest& key : keys) {
        if (pending_.contains(key)) continue;
        if (pending_.size() >= options_.max_pending) {
            ++stats_.dropped;
            continue;
        }
        pending_.insert(key);
        if (newly_noted) ++stats_.noted;
    }
}

void KeyUsageRecorder::flush() {
    const std::lock_guard one_write(flushing_);
    std::vector<TokenDigest> keys;
    {
        const std::lock_guard lock(mutex_);
        if (pending_.empty()) return;
        keys.assign(pending_.begin(), pending_.end());
        pending_.clear();
        // Counted as written from now on, so a key noted during the write is not sent twice.
        const auto now = Clock::now();
        std::erase_if(written_at_, [&](const auto& entry) { return now - entry.second >= options_.interval; });
        for (const TokenDigest& key : keys) written_at_[key] = now;
    }

    KeyUsageWrite result;
    try {
        result = writer_(keys);
    } catch (const std::exception& e) {
        result = {false, 0, e.what()};
    }

    std::string previous_error;
    {
        const std::lock_guard lock(mutex_);
        previous_error = stats_.last_error;
        if (result.ok) {
            stats_.sent += keys.size();
            stats_.updated += result.updated;
            stats_.last_error.clear();
        } else {
            ++stats_.failures;
            stats_.last_error = result.error.empty() ? "the write failed" : result.error;
            // Sent again at the next flush, as far as the pending set has room.
            for (const TokenDigest& key : keys) written_at_.erase(key);
            keep_pending(keys, false);  // noted once already
        }
    }
    // Logged when the state changes, not at every flush of an outage.
    if (!result.ok && result.error != previous_error) {
        log::warn("cannot write the last use of project secret API keys; they are sent again at the next flush",
                  {{"error", result.error}, {"keys", std::to_string(keys.size())}});
    } else if (result.ok && !previous_error.empty()) {
        log::info("the last use of project secret API keys is written again");
    }
}

KeyUsageRecorder::Stats KeyUsageRecorder::stats() const {
    const std::lock_guard lock(mutex_);
    Stats copy = stats_;
    copy.pending = pending_.size();
    return copy;
}

}  // namespace warden
