#include "output_producer.hpp"

#include <warden/log.hpp>

#include <algorithm>
#include <stdexcept>
#include <thread>

namespace warden::kafka {
namespace {

constexpr std::chrono::milliseconds first_retry_backoff{100};
constexpr std::chrono::milliseconds max_retry_backoff{5000};

}  // namespace

KafkaProperties output_producer_properties(const KafkaProperties& overrides) {
    KafkaProperties p = {
        {"enable.idempotence", "true"},  // implies acks=all and ordered, duplicate-free retries
        {"acks", "all"},
        {"linger.ms", "5"},
        {"batch.num.messages", "10000"},
        {"queue.buffering.max.messages", "200000"},
        {"queue.buffering.max.kbytes", "262144"},
        // Room for a dead-lettered input of any size the consumer accepted, plus its headers.
        {"message.max.bytes", "10000000"},
    };
    p.insert(p.end(), overrides.begin(), overrides.end());
    return p;
}

namespace {

void* opaque_of(uint32_t slot) { return reinterpret_cast<void*>(static_cast<uintptr_t>(slot) + 1); }
uint32_t slot_of(void* opaque) { return static_cast<uint32_t>(reinterpret_cast<uintptr_t>(opaque) - 1); }

}  // namespace

OutputProducer::OutputProducer(const KafkaProperties& properties, AckHandler on_ack) : on_ack_(std::move(on_ack)) {
    ConfPtr conf = make_conf(output_producer_properties(properties));
    rd_kafka_conf_set_dr_msg_cb(conf.get(), &OutputProducer::on_delivery);
    rd_kafka_conf_set_opaque(conf.get(), this);
    client_ = make_client(RD_KAFKA_PRODUCER, std::move(conf));
}

OutputProducer::~OutputProducer() {
    // Topic handles must go before the client; undelivered messages are abandoned (their input
    // offsets were never committed, so they are redone by the next owner).
    topics_.clear();
    retries_.clear();
}

rd_kafka_topic_t* OutputProducer::topic(const std::string& name) {
    auto it = topics_.find(name);
    if (it != topics_.end()) return it->second.get();
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(client_.get(), name.c_str(), nullptr);
    if (!rkt) throw std::runtime_error("cannot create a producer handle for topic " + name);
    return topics_.emplace(name, TopicPtr(rkt)).first->second.get();
}

uint32_t OutputProducer::take_slot(const SourceTag& tag) {
    if (!free_slots_.empty()) {
        const uint32_t slot = free_slots_.back();
        free_slots_.pop_back();
        slots_[slot] = tag;
        retry_attempts_[slot] = 0;
        return slot;
    }
    slots_.push_back(tag);
    retry_attempts_.push_back(0);
    return static_cast<uint32_t>(slots_.size() - 1);
}

void OutputProducer::produce(const std::string& topic_name, const OutputRecord& record, const SourceTag& tag) {
    HeadersPtr headers(rd_kafka_headers_new(record.headers.size()));
    for (size_t i = 0; i < record.headers.size(); ++i) {
        const HeaderView h = record.headers[i];
        rd_kafka_header_add(headers.get(), h.name.data(), static_cast<ssize_t>(h.name.size()),
                            h.value ? h.value->data() : nullptr, h.value ? static_cast<ssize_t>(h.value->size()) : 0);
    }
    const uint32_t slot = take_slot(tag);
    enqueue(topic(topic_name), record.key ? record.key->data() : nullptr, record.key ? record.key->size() : 0,
            record.value ? record.value->data() : nullptr, record.value ? record.value->size() : 0,
            std::move(headers), slot);
}

void OutputProducer::enqueue(rd_kafka_topic_t* rkt, const void* key, size_t key_size, const void* value,
                             size_t value_size, HeadersPtr headers, uint32_t slot) {
    for (;;) {
        rd_kafka_vu_t vus[6];
        vus[0].vtype = RD_KAFKA_VTYPE_RKT;
        vus[0].u.rkt = rkt;
        vus[1].vtype = RD_KAFKA_VTYPE_KEY;
        vus[1].u.mem = {const_cast<void*>(key), key_size};
        vus[2].vtype = RD_KAFKA_VTYPE_VALUE;
        vus[2].u.mem = {const_cast<void*>(value), value_size};
        vus[3].vtype = RD_KAFKA_VTYPE_HEADERS;
        vus[3].u.headers = headers.get();
        vus[4].vtype = RD_KAFKA_VTYPE_OPAQUE;
        vus[4].u.ptr = opaque_of(slot);
        vus[5].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
        vus[5].u.i = RD_KAFKA_MSG_F_COPY;
        ErrorPtr error(rd_kafka_produceva(client_.get(), vus, 6));
        if (!error) {
            (void)headers.release();  // the message owns them now
            return;
        }
        const rd_kafka_resp_err_t code = rd_kafka_error_code(error.get());
        if (code == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            poll(std::chrono::milliseconds(10));  // backpressure: wait for deliveries
            continue;
        }
        check_fatal();
        // Anything else is a per-message failure (e.g. too large): treat it like a failed delivery.
        ++delivery_errors_;
        hold_for_retry(rd_kafka_topic_name(rkt), key, key_size, value, value_size, std::move(headers), slot,
                       rd_kafka_error_string(error.get()));
        return;
    }
}

void OutputProducer::on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
    static_cast<OutputProducer*>(opaque)->delivered(*message);
}

void OutputProducer::delivered(const rd_kafka_message_t& message) {
    const uint32_t slot = slot_of(message._private);
    if (message.err) {
        ++delivery_errors_;
        schedule_retry(message, slot);
        return;
    }
    ++delivered_;
    last_delivery_ = std::chrono::steady_clock::now();
    const SourceTag tag = slots_[slot];
    free_slots_.push_back(slot);
    on_ack_(tag);
}

void OutputProducer::schedule_retry(const rd_kafka_message_t& message, uint32_t slot) {
    rd_kafka_headers_t* headers = nullptr;
    HeadersPtr copy(rd_kafka_message_headers(&message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR && headers
                        ? rd_kafka_headers_copy(headers)
                        : rd_kafka_headers_new(0));
    hold_for_retry(rd_kafka_topic_name(message.rkt), message.key, message.key_len, message.payload, message.len,
                   std::move(copy), slot, rd_kafka_err2str(message.err));
}

void OutputProducer::hold_for_retry(std::string topic, const void* key, size_t key_size, const void* value,
                                    size_t value_size, HeadersPtr headers, uint32_t slot, const char* error) {
    Retry retry;
    retry.topic = std::move(topic);
    retry.has_key = key != nullptr;
    if (key) retry.key.assign(static_cast<const char*>(key), key_size);
    retry.has_value = value != nullptr;
    if (value) retry.value.assign(static_cast<const char*>(value), value_size);
    retry.headers = std::move(headers);
    retry.slot = slot;
    const uint32_t attempt = retry_attempts_[slot]++;
    retry.due = std::chrono::steady_clock::now() +
                std::min(max_retry_backoff, first_retry_backoff * (1u << std::min(attempt, 6u)));
    log_failure(retry.topic, error);
    retries_.push_back(std::move(retry));
}

void OutputProducer::log_failure(const std::string& topic, const char* error) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_error_log_ < std::chrono::seconds(1)) return;  // one line a second, not one per message
    last_error_log_ = now;
    log::warn("delivery failed; the output will be produced again and its input offset is held",
              {{"topic", topic}, {"error", error}, {"delivery_errors", std::to_string(delivery_errors_)}});
}

void OutputProducer::produce_due_retries() {
    const auto now = std::chrono::steady_clock::now();
    // Retries are re-queued at most once per call, so a refused retry cannot spin here.
    for (size_t n = retries_.size(); n > 0; --n) {
        Retry retry = std::move(retries_.front());
        retries_.pop_front();
        if (retry.due > now) {
            retries_.push_back(std::move(retry));
            continue;
        }
        enqueue(topic(retry.topic), retry.has_key ? retry.key.data() : nullptr, retry.key.size(),
                retry.has_value ? retry.value.data() : nullptr, retry.value.size(), std::move(retry.headers),
                retry.slot);
    }
}

void OutputProducer::check_fatal() {
    char errstr[512];
    if (rd_kafka_fatal_error(client_.get(), errstr, sizeof errstr) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        throw std::runtime_error(std::string("fatal producer error: ") + errstr);
    }
}

void OutputProducer::poll(std::chrono::milliseconds timeout) {
    // A retry that meets a full queue polls from inside produce_due_retries(): no nesting.
    if (!retries_.empty() && !producing_retries_) {
        producing_retries_ = true;
        produce_due_retries();
        producing_retries_ = false;
        if (!retries_.empty()) timeout = std::min(timeout, std::chrono::milliseconds(50));
    }
    rd_kafka_poll(client_.get(), static_cast<int>(timeout.count()));
    check_fatal();
}

bool OutputProducer::drain(std::chrono::steady_clock::time_point deadline) {
    return drain_until([this] { return in_flight() == 0; }, deadline);
}

bool OutputProducer::drain_until(const std::function<bool()>& done, std::chrono::steady_clock::time_point deadline) {
    while (!done()) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        poll(std::min(left, std::chrono::milliseconds(50)));
    }
    return true;
}

}  // namespace warden::kafka
