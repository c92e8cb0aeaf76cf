// `run --threads N`: N whole workers in one process, one per thread, and their figures as one.
#include <warden/log.hpp>
#include <warden/worker_threads.hpp>

#include <algorithm>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <pthread.h>

namespace warden {

using Clock = std::chrono::steady_clock;

WorkerOptions member_options(const WorkerOptions& options, size_t index, size_t count) {
    WorkerOptions member = options;
    member.member_count = count;
    member.member_index = index;
    if (count <= 1) return member;
    std::string suffix = std::to_string(index);
    suffix.insert(suffix.begin(), '-');  // not "-" + …: gcc 12 warns of an overlap that cannot be
    if (!member.group_instance_id.empty()) member.group_instance_id += suffix;
    if (!member.transactional_id.empty()) member.transactional_id += suffix;
    member.max_in_flight = std::max<size_t>(1, options.max_in_flight / count);
    return member;
}

namespace {

// When `s` last showed delivery progress while outputs waited: what the producer-stall check reads.
Clock::time_point delivery_progress(const WorkerStats& s) { return std::max(s.last_delivery, s.outputs_waiting_since); }

}  // namespace

WorkerStats combine_member_stats(std::span<const WorkerStats> members) {
    WorkerStats all;
    if (members.empty()) return all;
    all.brokers_reached = true;
    all.group_joined = true;
    all.store_available = true;
    all.last_progress = Clock::time_point::max();
    const WorkerStats* most_stalled = nullptr;  // among members with outputs waiting
    for (const WorkerStats& s : members) {
        all.outcomes.add(s.outcomes);
        all.consumed_bytes += s.consumed_bytes;
        for (size_t d = 0; d < destination_count; ++d) all.produced_bytes[d] += s.produced_bytes[d];
        all.batches += s.batches;
        all.batch_latency.add(s.batch_latency);
        all.delivered += s.delivered;
        all.delivery_errors += s.delivery_errors;
        all.store_waits += s.store_waits;
        all.rebalances += s.rebalances;
        all.commit_failures += s.commit_failures;
        all.transactions_committed += s.transactions_committed;
        all.transactions_aborted += s.transactions_aborted;
        all.transaction_duration.add(s.transaction_duration);
        all.assigned_partitions += s.assigned_partitions;
        all.in_flight += s.in_flight;
        all.producer_queue += s.producer_queue;
        all.paused = all.paused || s.paused;
        if (!s.store_available && all.store_available) {
            all.store_available = false;
            all.store_error = s.store_error;
        }
        if (!s.brokers_reached && all.brokers_reached) {
            all.brokers_reached = false;
            all.broker_issue = s.broker_issue;
        }
        all.group_joined = all.group_joined && s.group_joined;
        all.group_lost = all.group_lost || s.group_lost;
        all.dead_letters_cut += s.dead_letters_cut;
        for (size_t k = 0; k < audit_kind_count; ++k) all.audit_occurrences[k] += s.audit_occurrences[k];
        all.audit_records += s.audit_records;
        all.fetch_stall += s.fetch_stall;
        all.last_progress = std::min(all.last_progress, s.last_progress);
        all.last_delivery = std::max(all.last_delivery, s.last_delivery);
        all.outputs_waiting_since = std::max(all.outputs_waiting_since, s.outputs_waiting_since);
        if (s.in_flight > 0 && (!most_stalled || delivery_progress(s) < delivery_progress(*most_stalled))) {
            most_stalled = &s;
        }
        all.team_cache.add(s.team_cache);
        for (const auto& [partition, lag] : s.lag) {
            // A partition moving between members may briefly be in two: the larger lag is the truth.
            auto [at, inserted] = all.lag.emplace(partition, lag);
            if (!inserted) at->second = std::max(at->second, lag);
        }
    }
    if (most_stalled) {
        all.last_delivery = most_stalled->last_delivery;
        all.outputs_waiting_since = most_stalled->outputs_waiting_since;
    }
    return all;
}

WorkerThreads::WorkerThreads(const WorkerOptions& options, std::span<TeamCache* const> caches) {
    if (caches.size() > 1) departure_gate_ = std::make_shared<DepartureGate>(caches.size());
    for (size_t i = 0; i < caches.size(); ++i) {
        WorkerOptions member = member_options(options, i, caches.size());
        member.departure_gate = departure_gate_;
        members_.push_back(std::make_unique<Worker>(std::move(member), *caches[i]));
    }
}

WorkerThreads::~WorkerThreads() = default;

void WorkerThreads::request_stop() {
    for (const std::unique_ptr<Worker>& member : members_) member->request_stop();
}

void WorkerThreads::run() {
    std::mutex failure_mutex;
    std::exception_ptr first_failure;
    const auto run_member = [&](size_t index) {
        // With one member the lines stay as a single worker's.
        std::optional<log::ThreadField> member_field;
        if (members_.size() > 1) member_field.emplace("member", std::to_string(index));
        try {
            members_[index]->run();
        } catch (...) {
            {
                std::lock_guard lock(failure_mutex);
                if (!first_failure) first_failure = std::current_exception();
            }
            if (departure_gate_) departure_gate_->arrive(index);  // the others leave without it
            request_stop();
        }
    };
    std::vector<std::thread> threads;
    threads.reserve(members_.size());
    for (size_t i = 1; i < members_.size(); ++i) {
        threads.emplace_back(run_member, i);
        // Named for `top -H` and the like ("member-256" at most: within the 15-character limit).
        pthread_setname_np(threads.back().native_handle(), ("member-" + std::to_string(i)).c_str());
    }
    // Member 0 on this thread, as a single worker runs, so `--threads 1` is exactly that.
    if (!members_.empty()) run_member(0);
    for (std::thread& thread : threads) thread.join();
    if (first_failure) std::rethrow_exception(first_failure);
}

WorkerStats WorkerThreads::stats() const {
    if (members_.size() == 1) return members_.front()->stats();
    std::vector<WorkerStats> each;
    each.reserve(members_.size());
    for (const std::unique_ptr<Worker>& member : members_) each.push_back(member->stats());
    return combine_member_stats(each);
}

}  // namespace warden
