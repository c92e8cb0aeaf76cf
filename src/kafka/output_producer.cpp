#include "output_producer.hpp"

#include <warden/log.hpp>
#include <warden/retry_policy.hpp>

#include <algorithm>
#include <stdexcept>
#include <thread>

namespace warden::kafka {
namespace {

void* opaque_of(uint32_t slot) { return reinterpret_cast<void*>(static_cast<uintptr_t>(slot) + 1); }
uint32_t slot_of(void* opaque) { return static_cast<uint32_t>(reinterpret_cast<uintptr_t>(opaque) - 1); }

std::optional<std::string> bytes_of(const void* data, size_t size) {
    if (!data) return std::nullopt;
    return std::string(static_cast<const char*>(data), size);
}

OwnedRecord copy_record(std::string topic, const void* key, size_t key_size, const void* value, size_t value_size,
                        const rd_kafka_headers_t* headers) {
    OwnedRecord record{std::move(topic), bytes_of(key, key_size), bytes_of(value, value_size), {}};
    const char* name;
    const void* header_value;
    size_t header_size;
    for (size_t i = 0; headers && rd_kafka_header_get_all(headers, i, &name, &header_value, &header_size) == 0; ++i) {
        record.headers.emplace_back(name, bytes_of(header_value, header_size));
    }
    return record;
}

OwnedRecord copy_record(const rd_kafka_message_t& message) {
    rd_kafka_headers_t* headers = nullptr;
    if (rd_kafka_message_headers(&message, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) headers = nullptr;
    return copy_record(rd_kafka_topic_name(message.rkt), message.key, message.key_len, message.payload, message.len,
                       headers);
}

}  // namespace

KafkaProperties output_producer_properties(const KafkaProperties& overrides, size_t max_message_bytes) {
    // librdkafka adds the most a record's framing can take to key, value and headers before it
    // compares them with message.max.bytes, so every record the core let through (key, value and
    // headers within its limit) passes; librdkafka's minimum is 1000.
    const size_t max_record_bytes = std::max<size_t>(1000, max_message_bytes + record_framing_max);
    KafkaProperties p = {
        {"enable.idempotence", "true"},  // implies acks=all and ordered, duplicate-free retries
        {"acks", "all"},
        {"linger.ms", "5"},
        {"batch.num.messages", "10000"},
        {"queue.buffering.max.messages", "200000"},
        {"queue.buffering.max.kbytes", "262144"},
        {"message.max.bytes", std::to_string(max_record_bytes)},
        // Output topics are checked at start-up; one deleted later must not come back by itself.
        {"allow.auto.create.topics", "false"},
    };
    p.insert(p.end(), overrides.begin(), overrides.end());
    return p;
}

KafkaProperties output_producer_properties(const OutputProducerOptions& options) {
    if (options.transactional_id.empty())
        return output_producer_properties(options.properties, options.max_message_bytes);
    // A worker killed mid-transaction holds back read_committed consumers (and the next owner's
    // offset fetch) until the broker aborts it: 10 s, as Kafka Streams chose, not librdkafka's 60.
    KafkaProperties transactional = {{"transactional.id", options.transactional_id},
                                     {"transaction.timeout.ms", "10000"}};
    transactional.insert(transactional.end(), options.properties.begin(), options.properties.end());
    return output_producer_properties(transactional, options.max_message_bytes);
}

OutputProducerOptions output_producer_options(const std::string& brokers, const KafkaProperties& properties,
                                              const CoreLimits& limits, const std::string& source_topic,
                                              const TopicNames& topics, const std::string& transactional_id) {
    OutputProducerOptions options;
    options.transactional_id = transactional_id;
    options.properties = {{"bootstrap.servers", brokers}};
    options.properties.insert(options.properties.end(), properties.begin(), properties.end());
    options.max_message_bytes = limits.max_message_bytes;
    options.source_topic = source_topic;
    options.dead_letter_topic = topics.dead_letter;
    return options;
}

OutputProducer::OutputProducer(OutputProducerOptions options) : options_(std::move(options)) {
    ConfPtr conf = make_conf(output_producer_properties(options_));
    char value[32];
    size_t size = sizeof value;
    if (rd_kafka_conf_get(conf.get(), "message.max.bytes", value, &size) == RD_KAFKA_CONF_OK) {
        max_record_bytes_ = std::stoul(value);
    }
    rd_kafka_conf_set_dr_msg_cb(conf.get(), &OutputProducer::on_delivery);
    rd_kafka_conf_set_opaque(conf.get(), this);
    client_ = make_client(RD_KAFKA_PRODUCER, std::move(conf));
}

OutputProducer::~OutputProducer() {
    // Undelivered messages are abandoned (their input offsets were never committed, so they are
    // redone by the next owner), and no produce request may still await its response: librdkafka
    // (2.0 to at least 2.15) frees a transactional producer's error text when its main thread
    // ends, and a broker thread handling a fenced response after that frees it a second time.
    // The purge waits until every broker thread has let go of its requests.
    if (const rd_kafka_resp_err_t error =
            rd_kafka_purge(client_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT)) {
        log::warn("the producer's queue could not be purged before closing", {{"error", rd_kafka_err2str(error)}});
    }
    // Topic handles must go before the client.
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

void OutputProducer::send(const std::string& topic_name, const OutputRecord& record, const SourceTag& source) {
    if (!replacements_.empty()) {
        if (const OwnedRecord* replacement = replacement_for(topic_name, source)) {
            enqueue(*replacement, take_slot(source));
            return;
        }
    }
    HeadersPtr headers(rd_kafka_headers_new(record.headers.size()));
    for (size_t i = 0; i < record.headers.size(); ++i) {
        const HeaderView h = record.headers[i];
        rd_kafka_header_add(headers.get(), h.name.data(), static_cast<ssize_t>(h.name.size()),
                            h.value ? h.value->data() : nullptr, h.value ? static_cast<ssize_t>(h.value->size()) : 0);
    }
    const uint32_t slot = take_slot(source);
    enqueue(topic(topic_name), record.key ? record.key->data() : nullptr, record.key ? record.key->size() : 0,
            record.value ? record.value->data() : nullptr, record.value ? record.value->size() : 0, std::move(headers),
            slot);
}

void OutputProducer::enqueue(const OwnedRecord& record, uint32_t slot) {
    HeadersPtr headers(rd_kafka_headers_new(record.headers.size()));
    for (const auto& [name, value] : record.headers) {
        rd_kafka_header_add(headers.get(), name.data(), static_cast<ssize_t>(name.size()),
                            value ? value->data() : nullptr, value ? static_cast<ssize_t>(value->size()) : 0);
    }
    enqueue(topic(record.topic), record.key ? record.key->data() : nullptr, record.key ? record.key->size() : 0,
            record.value ? record.value->data() : nullptr, record.value ? record.value->size() : 0, std::move(headers),
            slot);
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
        failed(copy_record(rd_kafka_topic_name(rkt), key, key_size, value, value_size, headers.get()), slot, code,
               Refuser::client);
        check_fatal();
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
        failed(copy_record(message), slot, message.err, Refuser::broker);
        return;
    }
    ++delivered_;
    last_delivery_ = std::chrono::steady_clock::now();
    const SourceTag tag = slots_[slot];
    free_slots_.push_back(slot);
    acknowledge(tag);
}

void OutputProducer::failed(OwnedRecord record, uint32_t slot, rd_kafka_resp_err_t error, Refuser refuser) {
    if (transactional()) {
        failed_in_transaction(std::move(record), slot, error, refuser);
        return;
    }
    if (classify_delivery_error(error) != DeliveryFailure::transient) {
        failed_for_good(std::move(record), slot, error, refuser);
        return;
    }
    const auto backoff = RetryPolicy::Options{}.delay_after(retry_attempts_[slot]++);
    log_failure(record.topic, rd_kafka_err2str(error));
    retries_.push_back({std::move(record), slot, std::chrono::steady_clock::now() + backoff});
}

void OutputProducer::failed_for_good(OwnedRecord record, uint32_t slot, rd_kafka_resp_err_t error, Refuser refuser) {
    switch (classify_delivery_error(error)) {
        case DeliveryFailure::transient: break;
        case DeliveryFailure::too_large: replace_too_large(std::move(record), slot, error, refuser); return;
        case DeliveryFailure::refused:
            // Retrying cannot succeed and dropping would lose the input: stop, without committing past it.
            unrecoverable_ = "the brokers refuse records of topic " + record.topic + " for good (" +
                             rd_kafka_err2str(error) + "): check the topic's configuration and policies, then restart";
            return;
    }
}

void OutputProducer::failed_in_transaction(OwnedRecord record, uint32_t slot, rd_kafka_resp_err_t error,
                                           Refuser refuser) {
    if (error == RD_KAFKA_RESP_ERR__PURGE_QUEUE || error == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT) {
        free_slots_.push_back(slot);  // purged by an abort, which redoes it
        return;
    }
    const DeliveryFailure failure = classify_delivery_error(error);
    if (failure == DeliveryFailure::refused || (failure == DeliveryFailure::too_large && refuser == Refuser::client)) {
        // Refused for good, or by the client before it was sent (the transaction is intact, so the
        // dead letter joins it like any retry): as outside a transaction.
        failed_for_good(std::move(record), slot, error, refuser);
        return;
    }
    const SourceTag source = slots_[slot];
    free_slots_.push_back(slot);  // never acknowledged: the transaction is aborted and redone
    if (transaction_failure_.empty()) {
        transaction_failure_ = "delivery to " + record.topic + " failed: " + rd_kafka_err2str(error);
    }
    if (failure == DeliveryFailure::too_large) {
        // The redone transaction produces the dead letter instead; a refused dead letter is cut further.
        const std::string refused_topic = record.topic;
        if (std::optional<OwnedRecord> fitted = fitting_replacement(std::move(record), source, error, refuser)) {
            auto [entry, fresh] = replacements_.try_emplace({source.partition, source.offset});
            if (fresh) entry->second.refused_topic = refused_topic;
            entry->second.record = std::move(*fitted);
        }
        return;
    }
    log_failure(record.topic, rd_kafka_err2str(error));
}

const OwnedRecord* OutputProducer::replacement_for(const std::string& topic, const SourceTag& source) const {
    const auto it = replacements_.find({source.partition, source.offset});
    return it != replacements_.end() && it->second.refused_topic == topic ? &it->second.record : nullptr;
}

void OutputProducer::transaction_aborted(std::chrono::steady_clock::time_point deadline) {
    while (in_flight() > 0 && std::chrono::steady_clock::now() < deadline) {
        rd_kafka_poll(client_.get(), 10);
    }
    retries_.clear();
    transaction_failure_.clear();
}

void OutputProducer::replace_too_large(OwnedRecord record, uint32_t slot, rd_kafka_resp_err_t error, Refuser refuser) {
    std::optional<OwnedRecord> fitted = fitting_replacement(std::move(record), slots_[slot], error, refuser);
    if (!fitted) return;
    // Produced at the next poll: producing from inside a delivery callback could wait on itself.
    retries_.push_back({std::move(*fitted), slot, std::chrono::steady_clock::now()});
}

std::optional<OwnedRecord> OutputProducer::fitting_replacement(OwnedRecord record, const SourceTag& source,
                                                               rd_kafka_resp_err_t error, Refuser refuser) {
    // The broker counts a batch header on top of the record.
    size_t budget =
        max_record_bytes_ > 2 * record_batch_overhead ? max_record_bytes_ - record_batch_overhead : max_record_bytes_;
    const std::string refused_topic = record.topic;
    const size_t refused_size = produced_size(record);
    if (record.topic != options_.dead_letter_topic) {
        record =
            dead_letter_for(record, {options_.source_topic, source.partition, source.offset, error, wall_clock_ms()},
                            options_.dead_letter_topic);
        ++refused_outputs_;
    } else if (refuser == Refuser::broker) {
        // The broker's own limit is not known here: halve the dead letter until it is met.
        budget = std::min(budget, refused_size / 2);
    }
    const bool cut_before = record.header("dlq_truncated") != nullptr;
    std::optional<OwnedRecord> fitted = cut_to_fit(record, budget);
    if (!fitted && refuser == Refuser::broker) {
        // Half the refused size is less than a dead letter needs: the last try is the bare one.
        OwnedRecord bare = bare_dead_letter(std::move(record));
        if (produced_size(bare) < refused_size) fitted = std::move(bare);
    }
    if (!fitted) {
        unrecoverable_ = "the dead-letter topic " + options_.dead_letter_topic + " refuses even a " +
                         std::to_string(budget) + "-byte record as too large (" + rd_kafka_err2str(error) +
                         "): raise its max.message.bytes, then restart";
        return std::nullopt;
    }
    if (!cut_before && fitted->header("dlq_truncated")) ++dead_letters_cut_;
    log::warn("a record was refused as too large; a dead letter that fits replaces it",
              {{"topic", refused_topic},
               {"bytes", std::to_string(refused_size)},
               {"error", rd_kafka_err2str(error)},
               {"partition", std::to_string(source.partition)},
               {"offset", std::to_string(source.offset)},
               {"dead_letter_bytes", std::to_string(produced_size(*fitted))}});
    return fitted;
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
        Pending retry = std::move(retries_.front());
        retries_.pop_front();
        if (retry.due > now) {
            retries_.push_back(std::move(retry));
            continue;
        }
        enqueue(retry.record, retry.slot);
    }
}

void OutputProducer::check_fatal() {
    if (!unrecoverable_.empty()) throw std::runtime_error(unrecoverable_);
    char errstr[512];
    if (const rd_kafka_resp_err_t error = rd_kafka_fatal_error(client_.get(), errstr, sizeof errstr)) {
        throw std::runtime_error(std::string("fatal producer error: ") + errstr +
                                 (error == RD_KAFKA_RESP_ERR__FENCED ? fenced_producer_note : ""));
    }
}

void OutputProducer::poll(std::chrono::milliseconds timeout) {
    // A retry that meets a full queue polls from inside produce_due_retries(): no nesting.
    if (!retries_.empty() && !producing_retries_) {
        producing_retries_ = true;
        try {
            produce_due_retries();
        } catch (...) {
            producing_retries_ = false;
            throw;
        }
        producing_retries_ = false;
        if (!retries_.empty()) timeout = std::min(timeout, std::chrono::milliseconds(50));
    }
    rd_kafka_poll(client_.get(), static_cast<int>(timeout.count()));
    check_fatal();
}

}  // namespace warden::kafka
