// The sink of every Kafka mode: produces output records with an idempotent producer and reports
// each broker acknowledgement with the input offset it belongs to. A delivery that failed for a
// reason outside the record (a broker down, a timeout) is produced again after a backoff, never
// skipped, so its input offset cannot be committed. A record refused as too large is replaced by a
// dead letter cut until it is accepted, since producing it again could never succeed.
//
// With a transactional id the producer is transactional (exactly-once): a failed delivery is not
// produced again but dooms the open transaction, which the caller aborts and redoes from the last
// committed input offsets. A record the broker refused as too large is remembered with its
// replacement, so the redone transaction produces the dead letter instead.
#pragma once

#include "refused_delivery.hpp"

#include <warden/core.hpp>
#include <warden/delivery.hpp>
#include <warden/kafka_handles.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace warden::kafka {

// warden's producer settings (idempotent, acks=all, batching, queue caps, message.max.bytes
// following the core's limit, no topic auto-creation), then `overrides`.
KafkaProperties output_producer_properties(const KafkaProperties& overrides, size_t max_message_bytes);

struct OutputProducerOptions {
    KafkaProperties properties;            // applied after warden's defaults, so they override them
    size_t max_message_bytes = 1'000'000;  // the core's limit on a record
    std::string source_topic;              // the input topic, named in dead letters of refused outputs
    std::string dead_letter_topic = "events_dlq";
    std::string transactional_id;  // non-empty: a transactional producer (exactly-once)
};

// The producer settings `options` stand for: output_producer_properties of its properties and limit.
KafkaProperties output_producer_properties(const OutputProducerOptions& options);

// The producer of a mode reading `source_topic` from `brokers`: the core's limit, the dead-letter
// topic, and the operator's properties last; transactional when `transactional_id` is not empty.
OutputProducerOptions output_producer_options(const std::string& brokers, const KafkaProperties& properties,
                                              const CoreLimits& limits, const std::string& source_topic,
                                              const TopicNames& topics, const std::string& transactional_id = {});

// What a fenced transactional producer's error adds: why it happened and that nothing more commits.
inline constexpr const char* fenced_producer_note =
    " (the cluster fenced this producer: another instance with the same transactional id started, a newer member "
    "of the group took over, or the open transaction outlived transaction.timeout.ms; this one stops without "
    "committing, and a restart goes on from the committed offsets)";

// The Kafka sink of the delivery stage.
class OutputProducer final : public OutputSink {
public:
    explicit OutputProducer(OutputProducerOptions options);
    ~OutputProducer() override;
    OutputProducer(const OutputProducer&) = delete;
    OutputProducer& operator=(const OutputProducer&) = delete;
    OutputProducer(OutputProducer&&) = delete;
    OutputProducer& operator=(OutputProducer&&) = delete;

    // Queues a copy of the record. While librdkafka's queue is full it serves deliveries and
    // waits, which is the backpressure. Throws std::runtime_error on a fatal producer error.
    void send(const std::string& topic, const OutputRecord& record, const SourceTag& source) override;

    // Serves delivery reports and produces due retries. Throws on a fatal producer error, and
    // when a record is refused in a way no retry or cut can mend.
    void poll(std::chrono::milliseconds timeout) override;

    // Outputs produced and not yet acknowledged, retries included.
    size_t in_flight() const override { return slots_.size() - free_slots_.size(); }
    uint64_t delivered() const { return delivered_; }
    std::chrono::steady_clock::time_point last_delivery() const { return last_delivery_; }
    size_t queue_length() const { return static_cast<size_t>(rd_kafka_outq_len(client_.get())); }
    uint64_t delivery_errors() const { return delivery_errors_; }
    // Outputs refused as too large and sent to the dead-letter topic instead, since the last call.
    uint64_t take_refused_outputs() override { return std::exchange(refused_outputs_, 0); }
    // Dead letters that had to be cut to be accepted.
    uint64_t dead_letters_cut() const { return dead_letters_cut_; }
    // The producer's message.max.bytes, as configured.
    size_t max_record_bytes() const { return max_record_bytes_; }

    // Exactly-once: the client, for the transactional calls (see kafka::Transactions), and why
    // the open transaction cannot commit, when a delivery failed in it.
    bool transactional() const { return !options_.transactional_id.empty(); }
    rd_kafka_t* client() const { return client_.get(); }
    const std::string& transaction_failure() const { return transaction_failure_; }
    // After an abort: forgets the failure. Waits (serving reports) until the aborted outputs'
    // reports are back, so no slot of the aborted transaction is reused while still in flight.
    void transaction_aborted(std::chrono::steady_clock::time_point deadline);
    // After a commit: the remembered replacements were produced and are committed.
    void transaction_committed() { replacements_.clear(); }

private:
    // A record waiting to be produced again, under the slot of the output it stands for.
    struct Pending {
        OwnedRecord record;
        uint32_t slot = 0;
        std::chrono::steady_clock::time_point due;
    };
    enum class Refuser { client, broker };

    static void on_delivery(rd_kafka_t* rk, const rd_kafka_message_t* message, void* opaque);
    void delivered(const rd_kafka_message_t& message);
    // Decides what follows a failed delivery: a retry, a dead letter, a cut, or a fatal error.
    void failed(OwnedRecord record, uint32_t slot, rd_kafka_resp_err_t error, Refuser refuser);
    // A record that producing again cannot mend: replaced when too large, else unrecoverable.
    void failed_for_good(OwnedRecord record, uint32_t slot, rd_kafka_resp_err_t error, Refuser refuser);
    // A failed delivery inside a transaction: the transaction is doomed; nothing is produced again.
    void failed_in_transaction(OwnedRecord record, uint32_t slot, rd_kafka_resp_err_t error, Refuser refuser);
    void replace_too_large(OwnedRecord record, uint32_t slot, rd_kafka_resp_err_t error, Refuser refuser);
    // The dead letter that replaces a record refused as too large, cut to what the refuser takes;
    // nothing (and unrecoverable_ set) when even the smallest form is refused.
    std::optional<OwnedRecord> fitting_replacement(OwnedRecord record, const SourceTag& source,
                                                   rd_kafka_resp_err_t error, Refuser refuser);
    // The remembered replacement of the output for `topic` of input `source`, if the broker refused
    // that output as too large in an aborted transaction.
    const OwnedRecord* replacement_for(const std::string& topic, const SourceTag& source) const;
    void produce_due_retries();
    rd_kafka_topic_t* topic(const std::string& name);
    uint32_t take_slot(const SourceTag& tag);
    void enqueue(rd_kafka_topic_t* rkt, const void* key, size_t key_size, const void* value, size_t value_size,
                 HeadersPtr headers, uint32_t slot);
    void enqueue(const OwnedRecord& record, uint32_t slot);
    void check_fatal();
    void log_failure(const std::string& topic, const char* error);  // rate-limited

    OutputProducerOptions options_;
    ClientPtr client_;
    size_t max_record_bytes_ = 0;
    std::unordered_map<std::string, TopicPtr> topics_;
    std::vector<SourceTag> slots_;  // in-flight outputs; the message opaque is slot index + 1
    std::vector<uint32_t> free_slots_;
    std::vector<uint32_t> retry_attempts_;  // per slot
    std::deque<Pending> retries_;
    bool producing_retries_ = false;
    std::string unrecoverable_;  // set inside a callback, thrown once librdkafka's frames are left
    uint64_t delivered_ = 0;
    uint64_t delivery_errors_ = 0;
    uint64_t refused_outputs_ = 0;
    uint64_t dead_letters_cut_ = 0;
    std::chrono::steady_clock::time_point last_delivery_{};
    std::chrono::steady_clock::time_point last_error_log_{};

    // Exactly-once only.
    struct Replacement {
        std::string refused_topic;  // where the refused output was going
        OwnedRecord record;         // the dead letter produced instead
    };
    std::string transaction_failure_;
    std::map<std::pair<int32_t, int64_t>, Replacement> replacements_;  // by input partition and offset
};

}  // namespace warden::kafka
