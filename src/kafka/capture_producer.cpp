#include "broker_health.hpp"
#include "topic_catalog.hpp"

#include <warden/capture_producer.hpp>
#include <warden/kafka_handles.hpp>

#include <stdexcept>

namespace warden {

struct CaptureProducer::Client {
    kafka::ClientPtr handle;
};

CaptureProducer::CaptureProducer(const std::string& brokers, std::string topic, const KafkaProperties& properties,
                                 OnDelivered on_delivered)
    : topic_(std::move(topic)), on_delivered_(std::move(on_delivered)), client_(std::make_unique<Client>()) {
    KafkaProperties settings = {{"bootstrap.servers", brokers}, {"linger.ms", "5"}};
    settings.insert(settings.end(), properties.begin(), properties.end());
    kafka::ConfPtr conf = kafka::make_conf(settings);
    rd_kafka_conf_set_dr_msg_cb(conf.get(), [](rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
        on_delivery(opaque, message->partition, message->offset, reinterpret_cast<uintptr_t>(message->_private),
                    message->err == RD_KAFKA_RESP_ERR_NO_ERROR);
    });
    rd_kafka_conf_set_opaque(conf.get(), this);
    client_->handle = kafka::make_client(RD_KAFKA_PRODUCER, std::move(conf));
}

CaptureProducer::~CaptureProducer() = default;

void CaptureProducer::on_delivery(void* self, int32_t partition, int64_t offset, uint64_t id, bool ok) {
    auto* producer = static_cast<CaptureProducer*>(self);
    if (!ok) {
        ++producer->failed_;
    } else if (producer->on_delivered_) {
        producer->on_delivered_(id, partition, offset);
    }
}

bool CaptureProducer::send(std::string_view key, std::string_view value, const Headers& headers, uint64_t id) {
    return send_with(
        key, value, headers.size(),
        [&](rd_kafka_headers_t* list) {
            for (const auto& [name, header_value] : headers) {
                rd_kafka_header_add(list, name.data(), static_cast<ssize_t>(name.size()), header_value.data(),
                                    static_cast<ssize_t>(header_value.size()));
            }
        },
        id);
}

bool CaptureProducer::send(std::optional<std::string_view> key, std::optional<std::string_view> value,
                           const HeaderList& headers, uint64_t id) {
    return send_with(
        key, value, headers.size(),
        [&](rd_kafka_headers_t* list) {
            for (size_t i = 0; i < headers.size(); ++i) {
                const HeaderView h = headers[i];
                rd_kafka_header_add(list, h.name.data(), static_cast<ssize_t>(h.name.size()),
                                    h.value ? h.value->data() : nullptr,
                                    h.value ? static_cast<ssize_t>(h.value->size()) : 0);
            }
        },
        id);
}

template <typename AddHeaders>
bool CaptureProducer::send_with(std::optional<std::string_view> key, std::optional<std::string_view> value,
                                size_t header_count, const AddHeaders& add_headers, uint64_t id) {
    // librdkafka's macros cast their arguments unparenthesised: plain variables only.
    const void* key_bytes = key ? key->data() : nullptr;
    const size_t key_size = key ? key->size() : 0;
    void* value_bytes = value ? const_cast<char*>(value->data()) : nullptr;
    const size_t value_size = value ? value->size() : 0;
    for (;;) {
        kafka::HeadersPtr list(rd_kafka_headers_new(header_count));
        add_headers(list.get());
        const rd_kafka_resp_err_t err =
            rd_kafka_producev(client_->handle.get(), RD_KAFKA_V_TOPIC(topic_.c_str()),
                              RD_KAFKA_V_KEY(key_bytes, key_size), RD_KAFKA_V_VALUE(value_bytes, value_size),
                              RD_KAFKA_V_HEADERS(list.get()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<uintptr_t>(id))), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            (void)list.release();  // the message owns them now
            rd_kafka_poll(client_->handle.get(), 0);
            return true;
        }
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            throw std::runtime_error("producing to " + topic_ + " failed: " + rd_kafka_err2str(err));
        }
        if (stop_.load(std::memory_order_relaxed)) return false;
        rd_kafka_poll(client_->handle.get(), 10);  // room comes with deliveries
    }
}

void CaptureProducer::poll(std::chrono::milliseconds timeout) {
    rd_kafka_poll(client_->handle.get(), static_cast<int>(timeout.count()));
}

bool CaptureProducer::flush(std::chrono::milliseconds timeout) {
    return rd_kafka_flush(client_->handle.get(), static_cast<int>(timeout.count())) == RD_KAFKA_RESP_ERR_NO_ERROR &&
           failed_ == 0;
}

bool wait_for_topic(const std::string& brokers, const std::string& topic, std::string_view setting,
                    const KafkaProperties& properties, std::chrono::milliseconds broker_wait,
                    const std::atomic<bool>& stop) {
    // A group id lets rd_kafka_consumer_poll serve the client's events (without one it returns
    // "unknown group" at once, every time); nothing subscribes, so no group is joined.
    KafkaProperties settings = {{"bootstrap.servers", brokers}, {"group.id", "warden-topic-check"}};
    settings.insert(settings.end(), properties.begin(), properties.end());
    kafka::BrokerHealth health;
    kafka::ConfPtr conf = kafka::make_conf(settings);
    rd_kafka_conf_set_error_cb(conf.get(), &kafka::BrokerHealth::on_client_error);
    rd_kafka_conf_set_opaque(conf.get(), &health);
    kafka::ClientPtr client = kafka::make_client(RD_KAFKA_CONSUMER, std::move(conf));
    rd_kafka_poll_set_consumer(client.get());  // error events come through consumer polls
    kafka::BrokerWait wait;
    wait.stop = &stop;
    wait.limit = broker_wait;
    const std::optional<kafka::TopicCatalog> catalog = kafka::wait_for_brokers(client.get(), health, brokers, wait);
    if (!catalog) return false;
    kafka::require_topics(*catalog, {{topic, setting}}, brokers);
    return true;
}

}  // namespace warden
