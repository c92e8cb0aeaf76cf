#include "transactions.hpp"

#include <warden/log.hpp>

#include <algorithm>
#include <stdexcept>

namespace warden::kafka {
namespace {

using namespace std::chrono_literals;

// An abort must happen before anything else can: it gets at least this long, deadline or not.
constexpr auto min_abort_time = 5s;

int timeout_ms(Transactions::Clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Transactions::Clock::now());
    return static_cast<int>(std::max<int64_t>(left.count(), 1));
}

bool fenced(rd_kafka_resp_err_t code) {
    return code == RD_KAFKA_RESP_ERR__FENCED || code == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
           code == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH || code == RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID;
}

}  // namespace

Transactions::Transactions(OutputProducer& producer, rd_kafka_t* consumer, std::string input_topic,
                           const std::atomic<bool>& stop)
    : producer_(producer), consumer_(consumer), input_topic_(std::move(input_topic)), stop_(stop) {}

template <typename Call>
ErrorPtr Transactions::until_done(Call call, Clock::time_point deadline) {
    for (;;) {
        ErrorPtr error(call(timeout_ms(deadline)));
        if (!error || !rd_kafka_error_is_retriable(error.get()) || Clock::now() >= deadline) return error;
        throw_if_producer_failed();
    }
}

void Transactions::fatal(const char* step, const rd_kafka_error_t& error) const {
    fatal(step, rd_kafka_error_code(&error), rd_kafka_error_string(&error));
}

void Transactions::fatal(const char* step, rd_kafka_resp_err_t code, const char* reason) const {
    std::string what = std::string(step) + " failed for good: " + reason;
    if (fenced(code)) what += fenced_producer_note;
    throw std::runtime_error(what);
}

void Transactions::throw_if_producer_failed() const {
    char reason[512];
    if (const rd_kafka_resp_err_t code = rd_kafka_fatal_error(producer_.client(), reason, sizeof reason)) {
        fatal("the transactional producer", code, reason);
    }
}

bool Transactions::init() {
    bool reported = false;
    while (!stop_.load(std::memory_order_relaxed)) {
        ErrorPtr error(rd_kafka_init_transactions(producer_.client(), 5000));
        if (!error) return true;
        if (rd_kafka_error_is_fatal(error.get()) || !rd_kafka_error_is_retriable(error.get())) {
            fatal("registering the transactional id", *error);
        }
        throw_if_producer_failed();
        if (!reported) {
            log::warn("the transaction coordinator does not answer yet; retrying",
                      {{"error", rd_kafka_error_string(error.get())}});
            reported = true;
        }
    }
    return false;
}

void Transactions::begin() {
    if (open_) return;
    // librdkafka 2.0's begin may wait for ever on a producer that failed for good (a fenced
    // produce request, say): such a producer begins nothing.
    throw_if_producer_failed();
    if (ErrorPtr error{rd_kafka_begin_transaction(producer_.client())}) fatal("beginning a transaction", *error);
    open_ = true;
    began_ = Clock::now();
    offsets_.clear();
}

Transactions::Outcome Transactions::commit(Delivery& delivery, Clock::time_point deadline) {
    if (!open_) return Outcome::committed;
    if (!delivery.drain_all(deadline)) return abort_because("outputs still unacknowledged at the deadline", deadline);
    if (!producer_.transaction_failure().empty()) return abort_because(producer_.transaction_failure(), deadline);

    if (!offsets_.empty()) {
        PartitionListPtr list = make_partition_list(static_cast<int>(offsets_.size()));
        for (const auto& [partition, offset] : offsets_) {
            rd_kafka_topic_partition_list_add(list.get(), input_topic_.c_str(), partition)->offset = offset;
        }
        // Owned: until_done throws when the producer fails for good.
        const GroupMetadataPtr group(rd_kafka_consumer_group_metadata(consumer_));
        ErrorPtr error = until_done(
            [&](int ms) {
                return rd_kafka_send_offsets_to_transaction(producer_.client(), list.get(), group.get(), ms);
            },
            deadline);
        if (error) {
            if (rd_kafka_error_is_fatal(error.get())) fatal("adding the input offsets to the transaction", *error);
            return abort_because(std::string("adding the input offsets failed: ") + rd_kafka_error_string(error.get()),
                                 deadline);
        }
    }
    ErrorPtr error = until_done([&](int ms) { return rd_kafka_commit_transaction(producer_.client(), ms); }, deadline);
    // A commit that timed out is still under way: librdkafka refuses an abort until it ends
    // ("conflicting commit_transaction API call"), so it is resumed while running, as an abort is.
    bool reported = false;
    while (error && rd_kafka_error_is_retriable(error.get()) && !stop_.load(std::memory_order_relaxed)) {
        throw_if_producer_failed();
        if (!reported) {
            log::warn("the transaction coordinator does not answer; resuming the commit",
                      {{"error", rd_kafka_error_string(error.get())}});
            reported = true;
        }
        error.reset(rd_kafka_commit_transaction(producer_.client(), timeout_ms(Clock::now() + min_abort_time)));
    }
    if (error) {
        if (rd_kafka_error_is_fatal(error.get())) fatal("committing the transaction", *error);
        return abort_because(std::string("the commit failed: ") + rd_kafka_error_string(error.get()), deadline);
    }
    for (const auto& [partition, offset] : offsets_) last_committed_[partition] = offset;
    producer_.transaction_committed();
    ++stats_.committed;
    stats_.duration.record(Clock::now() - began_);
    open_ = false;
    return Outcome::committed;
}

Transactions::Outcome Transactions::abort_because(const std::string& why, Clock::time_point deadline) {
    log::warn("transaction aborted; its partitions go back to their committed offsets and are processed again",
              {{"reason", why}});
    abort(deadline);
    return Outcome::aborted;
}

bool Transactions::abort(Clock::time_point deadline) {
    if (!open_) return true;
    // Nothing else can happen before the abort: while running, a coordinator that does not answer
    // is waited for. Once stopping, past the deadline, it is left to abort on its own.
    deadline = std::max(deadline, Clock::now() + min_abort_time);
    bool reported = false;
    for (;;) {
        ErrorPtr error(rd_kafka_abort_transaction(producer_.client(), timeout_ms(deadline)));
        if (!error) break;
        if (rd_kafka_error_is_fatal(error.get()) || !rd_kafka_error_is_retriable(error.get())) {
            fatal("aborting the transaction", *error);
        }
        throw_if_producer_failed();
        if (Clock::now() < deadline) continue;
        if (stop_.load(std::memory_order_relaxed)) {
            log::warn(
                "stopping with the transaction not aborted; its coordinator aborts it after "
                "transaction.timeout.ms, or when this transactional id registers again",
                {{"error", rd_kafka_error_string(error.get())}});
            open_ = false;
            offsets_.clear();
            return false;
        }
        if (!reported) {
            log::warn("the transaction coordinator does not answer; retrying the abort",
                      {{"error", rd_kafka_error_string(error.get())}});
            reported = true;
        }
        deadline = Clock::now() + min_abort_time;
    }
    producer_.transaction_aborted(std::max(deadline, Clock::now() + min_abort_time));
    ++stats_.aborted;
    stats_.duration.record(Clock::now() - began_);
    open_ = false;
    offsets_.clear();
    return true;
}

}  // namespace warden::kafka
