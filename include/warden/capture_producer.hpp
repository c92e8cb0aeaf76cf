// capture_producer: writes raw capture messages to a topic as the HTTP capture tier does, for the
// demo, the benchmarks and the integration tests. Not warden's output path (see delivery.hpp).
#pragma once

#include <warden/kafka_properties.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace warden {

class CaptureProducer {
public:
    using Headers = std::vector<std::pair<std::string, std::string>>;
    // Called from poll() and flush() for each message the brokers acknowledged, with the id it
    // was sent with and where it was written.
    using OnDelivered = std::function<void(uint64_t id, int32_t partition, int64_t offset)>;

    // `properties` come after the brokers and warden's batching choice. Throws std::runtime_error
    // on settings librdkafka refuses.
    CaptureProducer(const std::string& brokers, std::string topic, const KafkaProperties& properties = {},
                    OnDelivered on_delivered = nullptr);
    ~CaptureProducer();
    CaptureProducer(const CaptureProducer&) = delete;
    CaptureProducer& operator=(const CaptureProducer&) = delete;

    // Queues a copy of the message; while the client's queue is full it serves deliveries and
    // waits. False when request_stop() ended such a wait. Throws std::runtime_error on any other
    // refusal.
    bool send(std::string_view key, std::string_view value, const Headers& headers, uint64_t id = 0);
    // Serves delivery reports for up to `timeout`.
    void poll(std::chrono::milliseconds timeout);
    // Waits for every delivery report; true when everything sent was delivered within `timeout`.
    bool flush(std::chrono::milliseconds timeout);
    // Deliveries that failed so far.
    uint64_t failed() const { return failed_; }
    // Safe from another thread: a send() waiting for room gives up.
    void request_stop() { stop_.store(true, std::memory_order_relaxed); }

private:
    struct Client;
    static void on_delivery(void* self, int32_t partition, int64_t offset, uint64_t id, bool ok);

    std::string topic_;
    OnDelivered on_delivered_;
    std::unique_ptr<Client> client_;
    uint64_t failed_ = 0;
    std::atomic<bool> stop_{false};
};

}  // namespace warden
