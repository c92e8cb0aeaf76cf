#include <warden/pipeline.hpp>

namespace warden {

BatchProcessor::BatchProcessor(TeamCache& cache, TopicNames topics, CoreLimits limits, WallClock wall_clock)
    : cache_(cache), processor_(std::move(topics), limits), wall_clock_(std::move(wall_clock)) {
    if (!wall_clock_) {
        wall_clock_ = [] {
            return std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                .count();
        };
    }
}

BatchProcessor::Status BatchProcessor::process(std::span<const MessageView> batch, BatchResult& out) {
    // Rotations committed in the store take effect from the next batch on.
    cache_.apply_store_changes();
    if (!teams_.resolve(batch, processor_, cache_)) return failure_status(cache_);
    if (key_usage_) key_usage_->note(teams_.project_keys_used());
    const int64_t now_ms = wall_clock_();
    // The quota stage: one snapshot for the batch, one decision per team.
    std::shared_ptr<const QuotaLimits> quota = quota_ ? quota_->current() : nullptr;
    if (quota && quota->empty()) quota.reset();
    quota_of_team_.clear();
    for (size_t i = 0; i < batch.size(); ++i) {
        Resolution resolution = teams_[i];
        if (quota && resolution.team) {
            auto [at, fresh] = quota_of_team_.try_emplace(resolution.team, 0);
            if (fresh) at->second = quota->limited(*resolution.team, now_ms / 1000);
            resolution.quota_limited = at->second;
        }
        processor_.process(batch[i], resolution, now_ms, out);
        if (audit_) {
            MessageOutcome& outcome = out.outcomes.back();
            outcome.audit_hold = audit_->observe(batch[i], resolution, outcome, now_ms);
        }
    }
    return Status::done;
}

BatchProcessor::Status BatchProcessor::check_store() {
    return cache_.check_store() ? Status::done : failure_status(cache_);
}

BatchProcessor::Status BatchProcessor::failure_status(const TeamCache& cache) {
    return cache.last_failure() == StoreFailure::permanent ? Status::store_failed : Status::store_unavailable;
}

}  // namespace warden
