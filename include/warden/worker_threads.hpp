// worker_threads: `warden run --threads N`, N members of the consumer group in one process.
#pragma once

#include <warden/teams.hpp>
#include <warden/worker.hpp>
#include <warden/worker_stats.hpp>

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

namespace warden {

// The options of member `index` of `count`. With more than one member, each has its own static
// membership and transactional ids (the given ones with "-<index>" appended: unique in the group,
// and the same after a restart, so a restarted process fences its predecessor member by member)
// and an equal share of max_in_flight, so the process as a whole keeps to the configured cap (and
// of the pre-fetch budget, where the client allows it: see kafka/prefetch.hpp).
WorkerOptions member_options(const WorkerOptions& options, size_t index, size_t count);

// Several members' figures as one worker's: counts, bytes and histograms summed; paused, lost or
// unavailable when any member is; joined, reached and available only when every member is; the
// loop's last turn from the member that turned longest ago, and delivery progress from the member
// waiting longest for an acknowledgement, so one stuck member makes the process unready.
WorkerStats combine_member_stats(std::span<const WorkerStats> members);

// N members of the consumer group in one process, one per thread. Each is a whole Worker, with its
// own consumer, producer, partitions, offsets and team cache: the group spreads the partitions
// over them, so per-partition order and every delivery guarantee are those of a single worker
// (offsets committed only for acknowledged prefixes; a revoke drains the member that owned them).
class WorkerThreads {
public:
    // One member per cache (each over its own view of one SharedTeamStore). Throws
    // std::runtime_error on configuration librdkafka refuses, as Worker does.
    WorkerThreads(const WorkerOptions& options, std::span<TeamCache* const> caches);
    ~WorkerThreads();
    WorkerThreads(const WorkerThreads&) = delete;
    WorkerThreads& operator=(const WorkerThreads&) = delete;

    // Runs every member until request_stop(), member 0 on the calling thread. When a member fails
    // the others are asked to stop (each drains and commits what was acknowledged); once all have
    // returned, the first failure is rethrown.
    void run();

    // Safe from a signal handler and from other threads.
    void request_stop();

    WorkerStats stats() const;

private:
    std::shared_ptr<DepartureGate> departure_gate_;  // with more than one member
    std::vector<std::unique_ptr<Worker>> members_;
};

}  // namespace warden
