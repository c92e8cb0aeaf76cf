// transactions: exactly-once processing (--processing-guarantee exactly-once). A transaction
// carries the outputs of the batches processed since it began, dead letters included, and the
// input offsets after them, sent with the consumer's group metadata so that the group coordinator
// refuses a member the group has moved past (KIP-447). A transaction that cannot commit is
// aborted, and the caller rewinds its partitions to the committed offsets and does the work again:
// read_committed consumers see each input's outputs exactly once.
#pragma once

#include "output_producer.hpp"

#include <warden/delivery.hpp>
#include <warden/histogram.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>

namespace warden::kafka {

class Transactions {
public:
    using Clock = std::chrono::steady_clock;
    enum class Outcome { committed, aborted };
    struct Stats {
        uint64_t committed = 0;
        uint64_t aborted = 0;
        LatencyHistogram duration;  // from begin to commit or abort
    };

    // `producer` is transactional; `consumer` is the group member whose offsets the transactions
    // carry; `stop` is the worker's stop request, which ends waits for an unanswering coordinator.
    Transactions(OutputProducer& producer, rd_kafka_t* consumer, std::string input_topic,
                 const std::atomic<bool>& stop);

    // Registers the transactional id with its coordinator, which fences an earlier producer of the
    // same id and aborts what it left open. Retries while the cluster does not answer; false when
    // stopped first. Throws std::runtime_error on a fatal error.
    bool init();

    // Begins a transaction unless one is open. Call before producing.
    void begin();
    bool open() const { return open_; }
    // Every input of `partition` before `next_offset` is processed in the open transaction.
    void processed(int32_t partition, int64_t next_offset) { offsets_[partition] = next_offset; }
    // The open transaction began at least `interval` ago.
    bool due(Clock::time_point now, std::chrono::milliseconds interval) const {
        return open_ && now - began_ >= interval;
    }

    // Waits until every output sent in the transaction is acknowledged, then commits it with its
    // input offsets, all by `deadline`. Aborts instead when that fails in a way an abort mends
    // (a failed delivery, a timeout, a rebalance that moved the generation on); the caller then
    // rewinds. Throws std::runtime_error on a fatal error, such as this producer being fenced:
    // nothing more may be committed.
    Outcome commit(Delivery& delivery, Clock::time_point deadline);
    // Aborts the open transaction, if any (e.g. when the assignment was lost). Retries for as long
    // as the coordinator does not answer, unless stopping: then, past `deadline`, the transaction
    // is left for the coordinator to abort, and the result is false.
    bool abort(Clock::time_point deadline);

    // The offsets the last commit made durable.
    const std::map<int32_t, int64_t>& last_committed() const { return last_committed_; }
    const Stats& stats() const { return stats_; }

private:
    // Runs a transactional call until it succeeds, fails for good, or the deadline passes;
    // retriable errors are tried again. Nothing on success.
    template <typename Call>
    ErrorPtr until_done(Call call, Clock::time_point deadline);
    // Aborts after `why`; throws when even the abort fails.
    Outcome abort_because(const std::string& why, Clock::time_point deadline);
    [[noreturn]] void fatal(const char* step, const rd_kafka_error_t& error) const;
    [[noreturn]] void fatal(const char* step, rd_kafka_resp_err_t code, const char* reason) const;
    // A retried call may not learn of a fatal error the producer raised elsewhere (a fenced
    // produce request, say): throws it, so no retry goes on for ever.
    void throw_if_producer_failed() const;

    OutputProducer& producer_;
    rd_kafka_t* consumer_;
    std::string input_topic_;
    const std::atomic<bool>& stop_;
    bool open_ = false;
    Clock::time_point began_{};
    std::map<int32_t, int64_t> offsets_;  // the open transaction's, per input partition
    std::map<int32_t, int64_t> last_committed_;
    Stats stats_;
};

}  // namespace warden::kafka
