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
    lookups_.clear();
    tokens_.clear();
    for (const MessageView& message : batch) {
        lookups_.push_back(processor_.find_token(message));
        if (lookups_.back().status == TokenStatus::candidate) tokens_.push_back(std::move(lookups_.back().token));
    }
    if (!cache_.resolve_batch(tokens_, teams_)) return failure_status(cache_);

    const int64_t now_ms = wall_clock_();
    size_t next_team = 0;
    for (size_t i = 0; i < batch.size(); ++i) {
        const TokenLookup& lookup = lookups_[i];
        Resolution resolution;
        switch (lookup.status) {
            case TokenStatus::missing: resolution.drop = DropCause::no_token; break;
            case TokenStatus::invalid: resolution.drop = DropCause::invalid_token; break;
            case TokenStatus::unreadable: break;  // the processor dead-letters it
            case TokenStatus::candidate:
                resolution.token = tokens_[next_team];  // moved there from the lookup
                resolution.team = teams_[next_team++].get();
                if (!resolution.team) resolution.drop = DropCause::invalid_token;
                break;
        }
        processor_.process(batch[i], resolution, now_ms, out);
    }
    return Status::done;
}

BatchProcessor::Status BatchProcessor::check_store() { return cache_.check_store() ? Status::done : failure_status(cache_); }

BatchProcessor::Status BatchProcessor::failure_status(const TeamCache& cache) {
    return cache.last_failure() == StoreFailure::permanent ? Status::store_failed : Status::store_unavailable;
}

}  // namespace warden
