// The sink of every Kafka mode: produces output records with an idempotent producer and reports
// each broker acknowledgement with the input offset it belongs to. A failed delivery is
// produced again after a backoff, never skipped, so its input offset cannot be committed.
#pragma once

#include "handles.hpp"

#include <chrono>
#include <deque>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

namespace warden::kafka {

// The input message an output belongs to. `epoch` tells apart two assignments of one partition,
// so a late acknowledgement from before a revoke cannot count for the new owner's offsets.
struct SourceTag {
    int32_t partition = 0;
    int64_t offset = 0;
    uint32_t epoch = 0;
};

// warden's producer settings (idempotent, acks=all, batching, queue caps), then `overrides`.
KafkaProperties output_producer_properties(const KafkaProperties& overrides);

class OutputProducer {
public:
    using AckHandler = std::function<void(const SourceTag&)>;

    // `properties` come after warden's defaults (idempotence, acks=all), so they override them.
    OutputProducer(const KafkaProperties& properties, AckHandler on_ack);
    ~OutputProducer();

    // Queues a copy of the record. While librdkafka's queue is full it serves deliveries and
    // waits, which is the backpressure. Throws std::runtime_error on a fatal producer error.
    void produce(const std::string& topic, const OutputRecord& record, const SourceTag& tag);

    // Serves delivery reports and produces due retries. Throws on a fatal producer error.
    void poll(std::chrono::milliseconds timeout);

    // Polls until nothing is in flight or the deadline passes; true when everything was acknowledged.
    bool drain(std::chrono::steady_clock::time_point deadline);
    // Polls until `done()` or the deadline; true when done.
    bool drain_until(const std::function<bool()>& done, std::chrono::steady_clock::time_point deadline);

    // Outputs produced and not yet acknowledged, retries included.
    size_t in_flight() const { return slots_.size() - free_slots_.size(); }
    uint64_t delivered() const { return delivered_; }
    std::chrono::steady_clock::time_point last_delivery() const { return last_delivery_; }
    size_t queue_length() const { return static_cast<size_t>(rd_kafka_outq_len(client_.get())); }
    uint64_t delivery_errors() const { return delivery_errors_; }

private:
    struct Retry {
        std::string topic;
        std::string key;
        bool has_key = false;
        std::string value;
        bool has_value = false;
        HeadersPtr headers;
        uint32_t slot = 0;
        std::chrono::steady_clock::time_point due;
    };

    static void on_delivery(rd_kafka_t* rk, const rd_kafka_message_t* message, void* opaque);
    void delivered(const rd_kafka_message_t& message);
    void schedule_retry(const rd_kafka_message_t& message, uint32_t slot);
    // Keeps a copy of a failed output and produces it again after a backoff, under the same slot.
    void hold_for_retry(std::string topic, const void* key, size_t key_size, const void* value, size_t value_size,
                        HeadersPtr headers, uint32_t slot, const char* error);
    void produce_due_retries();
    rd_kafka_topic_t* topic(const std::string& name);
    uint32_t take_slot(const SourceTag& tag);
    void enqueue(rd_kafka_topic_t* topic, const void* key, size_t key_size, const void* value, size_t value_size,
                 HeadersPtr headers, uint32_t slot);
    void check_fatal();
    void log_failure(const std::string& topic, const char* error);  // rate-limited

    AckHandler on_ack_;
    ClientPtr client_;
    std::unordered_map<std::string, TopicPtr> topics_;
    std::vector<SourceTag> slots_;  // in-flight outputs; the message opaque is slot index + 1
    std::vector<uint32_t> free_slots_;
    std::vector<uint32_t> retry_attempts_;  // per slot
    std::deque<Retry> retries_;
    bool producing_retries_ = false;
    uint64_t delivered_ = 0;
    uint64_t delivery_errors_ = 0;
    std::chrono::steady_clock::time_point last_delivery_{};
    std::chrono::steady_clock::time_point last_error_log_{};
};

}  // namespace warden::kafka
