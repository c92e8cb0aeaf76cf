// pipeline: a batch of consumed messages through token lookup, team resolution and the core.
#pragma once

#include <warden/core.hpp>
#include <warden/teams.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <span>
#include <vector>

namespace warden {

// Runs batches through the core with one team lookup per batch. Not thread-safe: one per worker.
class BatchProcessor {
public:
    using WallClock = std::function<int64_t()>;  // epoch milliseconds, for dead-letter stamps

    BatchProcessor(TeamCache& cache, TopicNames topics = {}, CoreLimits limits = {}, WallClock wall_clock = nullptr);

    enum class Status { done, store_unavailable };

    // Appends one outcome per message to `out`, in order. On `store_unavailable` nothing is
    // appended: the caller keeps the batch and retries it after a backoff.
    Status process(std::span<const MessageView> batch, BatchResult& out);

    const TopicNames& topics() const { return processor_.topics(); }

private:
    TeamCache& cache_;
    EventProcessor processor_;
    WallClock wall_clock_;
    std::vector<TokenLookup> lookups_;
    std::vector<std::string> tokens_;
    std::vector<std::shared_ptr<const Team>> teams_;
};

}  // namespace warden
