// capture_producer: writes raw capture messages to a topic as the HTTP capture tier does, for the
// demo, the benchmarks and the integration tests. Not warden's output path (see delivery.hpp).
#pragma once

#include <warden/core.hpp>
#include <warden/kafka_properties.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
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
    // The same for a message as read from a file: a key or value may be null, a header value too.
    bool send(std::optional<std::string_view> key, std::optional<std::string_view> value, const HeaderList& headers,
              uint64_t id = 0);
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
    template <typename AddHeaders>
    bool send_with(std::optional<std::string_view> key, std::optional<std::string_view> value, size_t header_count,
                   const AddHeaders& add_headers, uint64_t id);
    static void on_delivery(void* self, int32_t partition, int64_t offset, uint64_t id, bool ok);

    std::string topic_;
    OnDelivered on_delivered_;
    std::unique_ptr<Client> client_;
    uint64_t failed_ = 0;
    std::atomic<bool> stop_{false};
};

// Waits up to `broker_wait` for the brokers to answer (giving up early, with false, once `stop` is
// set), then requires `topic` to exist, named as `setting` if not. `properties` configure the
// metadata client (credentials, TLS). Throws std::runtime_error naming the brokers and the cause,
// or the missing topic.
bool wait_for_topic(const std::string& brokers, const std::string& topic, std::string_view setting,
                    const KafkaProperties& properties, std::chrono::milliseconds broker_wait,
                    const std::atomic<bool>& stop);

}  // namespace warden
