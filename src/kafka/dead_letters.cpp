// `warden dlq inspect`: a fixed range of the dead-letter topic, read and counted.
#include "broker_health.hpp"
#include "offset_range.hpp"
#include "topic_catalog.hpp"
#include "watermarks.hpp"

#include <warden/dead_letters.hpp>
#include <warden/json_text.hpp>
#include <warden/kafka_handles.hpp>
#include <warden/log.hpp>

#include <cstdio>
#include <stdexcept>

namespace warden {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds request_timeout{10'000};
constexpr std::string_view no_header = "(none)";
// Distinct names counted per map: the headers are text anyone who can write to the topic chose.
constexpr size_t max_distinct = 1000;
constexpr std::string_view other_names = "(other)";

void count(std::map<std::string, uint64_t>& counts, const std::string& name) {
    if (auto it = counts.find(name); it != counts.end()) {
        ++it->second;
    } else if (counts.size() < max_distinct) {
        counts.emplace(name, 1);
    } else {
        ++counts[std::string(other_names)];
    }
}

KafkaProperties inspect_consumer_properties(const DeadLetterInspectOptions& o) {
    KafkaProperties p = {
        {"bootstrap.servers", o.brokers},  {"group.id", "warden-dlq-inspect"},  // required by the client, never joined
        {"enable.auto.commit", "false"},   {"enable.auto.offset.store", "false"},
        {"enable.partition.eof", "true"},  // how a partition read to the end of its range is seen done
        {"auto.offset.reset", "earliest"},
    };
    p.insert(p.end(), o.consumer_properties.begin(), o.consumer_properties.end());
    return p;
}

// Secrets redacted over the whole text first (a cut could split one), then cut, every byte
// outside printable ASCII written as \xNN so that any payload prints as valid JSON text.
std::string shown(std::string_view raw, size_t limit) {
    const std::string redacted = log::redact(raw);
    std::string out;
    for (size_t i = 0; i < redacted.size() && i < limit; ++i) {
        const auto c = static_cast<unsigned char>(redacted[i]);
        if (c >= 0x20 && c < 0x7f) {
            out += static_cast<char>(c);
        } else {
            char escape[8];
            std::snprintf(escape, sizeof escape, "\\x%02x", c);
            out += escape;
        }
    }
    if (redacted.size() > limit) out += "...";
    return out;
}

class HeaderReader {
public:
    explicit HeaderReader(rd_kafka_message_t* m) {
        if (rd_kafka_message_headers(m, &headers_) != RD_KAFKA_RESP_ERR_NO_ERROR) headers_ = nullptr;
    }
    // The last value of `name`, or "(none)".
    std::string last(const char* name) const {
        const void* value = nullptr;
        size_t size = 0;
        if (!headers_ || rd_kafka_header_get_last(headers_, name, &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR)
            return std::string(no_header);
        return value ? std::string(static_cast<const char*>(value), size) : std::string();
    }
    // The names of the headers that are not warden's dlq_* ones.
    std::vector<std::string> original_names() const {
        std::vector<std::string> names;
        const char* name = nullptr;
        const void* value = nullptr;
        size_t size = 0;
        for (size_t i = 0; headers_ && rd_kafka_header_get_all(headers_, i, &name, &value, &size) == 0; ++i) {
            if (std::string_view(name).rfind("dlq_", 0) != 0) names.emplace_back(name);
        }
        return names;
    }

private:
    rd_kafka_headers_t* headers_ = nullptr;
};

void append_counts(std::string& out, std::string_view name, const std::map<std::string, uint64_t>& counts) {
    out += ",\"";
    out += name;
    out += "\":{";
    bool first = true;
    for (const auto& [key, count] : counts) {
        if (!first) out += ',';
        first = false;
        json::append_json_string(out, shown(key, 200));
        out += ':' + std::to_string(count);
    }
    out += '}';
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
    out += ",\"";
    out += name;
    out += "\":";
    json::append_json_string(out, value);
}

}  // namespace

std::string DeadLetterInspection::to_json() const {
    std::string out = "{\"topic\":";
    json::append_json_string(out, topic);
    out += ",\"messages\":" + std::to_string(messages) + ",\"complete\":" + (complete ? "true" : "false");
    out += ",\"ranges\":{";
    bool first = true;
    for (const auto& [partition, range] : ranges) {
        out += (first ? "\"" : ",\"") + std::to_string(partition) + "\":[" + std::to_string(range.first) + "," +
               std::to_string(range.second) + "]";
        first = false;
    }
    out += '}';
    append_counts(out, "by_reason", by_reason);
    append_counts(out, "by_step", by_step);
    append_counts(out, "by_source", by_source);
    append_counts(out, "by_attempts", by_attempts);
    out += ",\"samples\":[";
    for (size_t i = 0; i < samples.size(); ++i) {
        const DeadLetterSample& s = samples[i];
        out += (i ? ",{" : "{");
        out += "\"partition\":" + std::to_string(s.partition) + ",\"offset\":" + std::to_string(s.offset);
        append_field(out, "reason", s.reason);
        append_field(out, "step", s.step);
        append_field(out, "error", s.error);
        append_field(out, "source", s.source);
        append_field(out, "key", s.key);
        append_field(out, "value", s.value);
        out += ",\"value_bytes\":" + std::to_string(s.value_bytes) + ",\"headers\":[";
        for (size_t h = 0; h < s.header_names.size(); ++h) {
            if (h) out += ',';
            json::append_json_string(out, s.header_names[h]);
        }
        out += "]}";
    }
    out += "]}";
    return out;
}

DeadLetterInspection inspect_dead_letters(const DeadLetterInspectOptions& o, const std::atomic<bool>& stop) {
    kafka::ConfPtr conf = kafka::make_conf(inspect_consumer_properties(o));
    kafka::BrokerHealth health;
    rd_kafka_conf_set_error_cb(conf.get(), &kafka::BrokerHealth::on_client_error);
    rd_kafka_conf_set_opaque(conf.get(), &health);
    kafka::ClientPtr consumer = kafka::make_client(RD_KAFKA_CONSUMER, std::move(conf));
    rd_kafka_poll_set_consumer(consumer.get());

    DeadLetterInspection result;
    result.topic = o.topic;
    kafka::BrokerWait wait;
    wait.stop = &stop;
    wait.limit = o.broker_wait;
    const std::optional<kafka::TopicCatalog> catalog = kafka::wait_for_brokers(consumer.get(), health, o.brokers, wait);
    if (!catalog) return result;
    kafka::require_topics(*catalog, {{o.topic, "--dlq-topic"}}, o.brokers);
    const std::vector<int32_t> partitions = catalog->partitions(o.topic);
    std::map<int32_t, kafka::Watermarks> marks;
    if (rd_kafka_resp_err_t err =
            kafka::query_watermarks(consumer.get(), o.topic, partitions, request_timeout, marks)) {
        throw std::runtime_error("cannot read the offsets of " + o.topic + ": " + rd_kafka_err2str(err));
    }
    kafka::OffsetRangeResolver resolver(consumer.get(), o.topic, request_timeout);
    std::map<int32_t, int64_t> next;  // partitions still to read: their next offset
    kafka::PartitionListPtr assignment = kafka::make_partition_list(static_cast<int>(partitions.size()));
    for (int32_t partition : partitions) {
        const auto [low, high] = marks.at(partition);
        const int64_t start = resolver.position(o.from, partition, low, high);
        const int64_t end = std::max(start, resolver.position(o.to, partition, low, high));
        result.ranges[partition] = {start, end};
        if (start < end) {
            next[partition] = start;
            rd_kafka_topic_partition_list_add(assignment.get(), o.topic.c_str(), partition)->offset = start;
        }
    }
    if (rd_kafka_resp_err_t err = rd_kafka_assign(consumer.get(), assignment.get())) {
        throw std::runtime_error(std::string("cannot assign the partitions of ") + o.topic + ": " +
                                 rd_kafka_err2str(err));
    }
    std::map<std::string, size_t> sampled;
    while (!next.empty() && !stop.load(std::memory_order_relaxed)) {
        kafka::MessagePtr m(rd_kafka_consumer_poll(consumer.get(), 100));
        if (!m) continue;
        auto part = next.find(m->partition);
        if (part == next.end()) continue;
        const int64_t end = result.ranges[m->partition].second;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (m->offset >= end) next.erase(part);
            continue;
        }
        if (m->err) {
            log::warn("dead-letter consumer error", {{"error", log::redact(rd_kafka_message_errstr(m.get()))}});
            continue;
        }
        if (m->offset >= end) {
            next.erase(part);
            continue;
        }
        part->second = m->offset + 1;
        if (part->second >= end) next.erase(part);

        const HeaderReader headers(m.get());
        const std::string reason = headers.last("dlq_reason");
        const std::string step = headers.last("dlq_step");
        const std::string source = headers.last("dlq_topic") + "/" + headers.last("dlq_partition");
        ++result.messages;
        count(result.by_reason, reason);
        count(result.by_step, step);
        count(result.by_source, source);
        const std::string attempts = headers.last("dlq_attempts");
        count(result.by_attempts, attempts == no_header ? "1" : attempts);
        auto taken = sampled.find(reason);
        if (taken == sampled.end() && sampled.size() < max_distinct) taken = sampled.emplace(reason, 0).first;
        if (taken != sampled.end() && taken->second < o.samples_per_reason) {
            ++taken->second;
            DeadLetterSample s;
            s.partition = m->partition;
            s.offset = m->offset;
            s.reason = shown(reason, 200);
            s.step = shown(step, 200);
            s.error = shown(headers.last("dlq_error"), o.sample_bytes);
            s.source = shown(source + "@" + headers.last("dlq_offset"), 400);
            const std::string_view key = m->key ? std::string_view(static_cast<const char*>(m->key), m->key_len) : "";
            const std::string_view value =
                m->payload ? std::string_view(static_cast<const char*>(m->payload), m->len) : "";
            s.key = shown(key, o.sample_bytes);
            s.value = shown(value, o.sample_bytes);
            s.value_bytes = value.size();
            for (const std::string& name : headers.original_names()) s.header_names.push_back(shown(name, 200));
            result.samples.push_back(std::move(s));
        }
    }
    result.complete = next.empty();
    // Never joined: destroyed without the close that leaves a group.
    rd_kafka_destroy_flags(consumer.release(), RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    return result;
}

}  // namespace warden
