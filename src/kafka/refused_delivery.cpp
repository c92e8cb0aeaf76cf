#include "refused_delivery.hpp"

#include <algorithm>

namespace warden::kafka {
namespace {

constexpr std::string_view truncated_header = "dlq_truncated";
constexpr std::string_view original_bytes_header = "dlq_original_bytes";

// Bytes of the zigzag varint librdkafka writes for a header length.
size_t varint_size(int64_t value) {
    uint64_t zigzag = (static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 63);
    size_t bytes = 1;
    while (zigzag >= 0x80) {
        zigzag >>= 7;
        ++bytes;
    }
    return bytes;
}

// The longest prefix of `text` of at most `size` bytes that does not end inside a UTF-8 sequence.
size_t utf8_prefix(const std::string& text, size_t size) {
    if (size >= text.size()) return text.size();
    while (size > 0 && (static_cast<unsigned char>(text[size]) & 0xC0) == 0x80) --size;
    return size;
}

bool is_dead_letter_header(const std::string& name) { return name.rfind("dlq_", 0) == 0; }

}  // namespace

const std::optional<std::string>* OwnedRecord::header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
        if (n == name) return &v;
    }
    return nullptr;
}

void OwnedRecord::set_header(std::string_view name, std::optional<std::string> value) {
    for (auto& [n, v] : headers) {
        if (n == name) {
            v = std::move(value);
            return;
        }
    }
    headers.emplace_back(std::string(name), std::move(value));
}

size_t produced_size(const OwnedRecord& r) {
    size_t size = record_framing_max + (r.key ? r.key->size() : 0) + (r.value ? r.value->size() : 0);
    for (const auto& [name, value] : r.headers) {
        const size_t value_size = value ? value->size() : 0;
        size += name.size() + value_size + varint_size(static_cast<int64_t>(name.size())) +
                varint_size(static_cast<int64_t>(value_size));
    }
    return size;
}

size_t record_bytes(const OwnedRecord& r) {
    OutputRecord output;
    output.key = r.key;
    output.value = r.value;
    for (const auto& [name, value] : r.headers) {
        output.headers.add(name, value ? std::optional<std::string_view>(*value) : std::nullopt);
    }
    return record_wire_size(output);
}

DeliveryFailure classify_delivery_error(rd_kafka_resp_err_t error) {
    switch (error) {
        case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:     // local (message.max.bytes) or the broker's limit
        case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:  // the broker's limit on the batch
            return DeliveryFailure::too_large;
        case RD_KAFKA_RESP_ERR_INVALID_RECORD:  // broker-side validation of the record
        case RD_KAFKA_RESP_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT: return DeliveryFailure::refused;
        default: return DeliveryFailure::transient;
    }
}

OwnedRecord dead_letter_for(const OwnedRecord& output, const RefusedOutput& source,
                            const std::string& dead_letter_topic) {
    OwnedRecord dead = output;
    dead.topic = dead_letter_topic;
    dead.set_header("dlq_reason", "message_too_large");
    dead.set_header("dlq_step", "produce");
    dead.set_header("dlq_error", std::string("the output was refused as too large: ") + rd_kafka_err2str(source.error));
    dead.set_header("dlq_timestamp", std::to_string(source.now_ms));
    dead.set_header("dlq_topic", source.source_topic);
    dead.set_header("dlq_partition", std::to_string(source.partition));
    dead.set_header("dlq_offset", std::to_string(source.offset));
    dead.set_header("dlq_output_topic", output.topic);
    return dead;
}

namespace {

void mark_cut(OwnedRecord& record) {
    if (record.header(truncated_header)) return;
    const std::string original = std::to_string(record_bytes(record));  // before any cut
    record.set_header(truncated_header, "true");
    record.set_header(original_bytes_header, original);
}

}  // namespace

std::optional<OwnedRecord> cut_to_fit(OwnedRecord record, size_t budget) {
    if (produced_size(record) <= budget) return record;
    mark_cut(record);
    const std::optional<std::string> value = std::move(record.value);
    // Each step gives up more of the record; the value takes whatever room is left.
    for (int step = 0; step < 3; ++step) {
        if (step == 1) {
            std::erase_if(record.headers, [](const auto& h) { return !is_dead_letter_header(h.first); });
        } else if (step == 2) {
            record.key.reset();
        }
        record.value = value ? std::optional<std::string>(std::string()) : std::nullopt;
        const size_t without_value = produced_size(record);
        if (without_value > budget) continue;
        if (value) record.value = value->substr(0, utf8_prefix(*value, budget - without_value));
        return record;
    }
    return std::nullopt;
}

OwnedRecord bare_dead_letter(OwnedRecord record) {
    mark_cut(record);
    std::erase_if(record.headers, [](const auto& h) { return !is_dead_letter_header(h.first); });
    record.key.reset();
    if (record.value) record.value->clear();
    return record;
}

}  // namespace warden::kafka
