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
    for (;;) {
        kafka::HeadersPtr list(rd_kafka_headers_new(headers.size()));
        for (const auto& [name, header_value] : headers) {
            rd_kafka_header_add(list.get(), name.data(), static_cast<ssize_t>(name.size()), header_value.data(),
                                static_cast<ssize_t>(header_value.size()));
        }
        const rd_kafka_resp_err_t err = rd_kafka_producev(
            client_->handle.get(), RD_KAFKA_V_TOPIC(topic_.c_str()), RD_KAFKA_V_KEY(key.data(), key.size()),
            RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()), RD_KAFKA_V_HEADERS(list.get()),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
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

}  // namespace warden
