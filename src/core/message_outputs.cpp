#include "message_outputs.hpp"

#include "record_size.hpp"
#include "reserved_names.hpp"
#include "secret_redaction.hpp"
#include "utf8.hpp"

#include <charconv>

namespace warden {
namespace {

// Sets a reused record's key or value, keeping the string's memory.
void assign(std::optional<std::string>& slot, std::optional<std::string_view> text) {
    if (!text) {
        slot.reset();
    } else if (slot) {
        slot->assign(*text);
    } else {
        slot.emplace(*text);
    }
}

constexpr size_t max_topic_bytes = 249;

std::string_view dead_letter_step(DeadLetterReason reason) {
    switch (reason) {
        case DeadLetterReason::failed_parse_message: return "parse_message";
        case DeadLetterReason::empty_uuid:
        case DeadLetterReason::invalid_uuid: return "validate_event";
        case DeadLetterReason::message_too_large: return "check_size";
    }
    return "unknown";
}

}  // namespace

MessageOutputs::MessageOutputs(const MessageView& message, int64_t now_ms, BatchResult& out, const CoreLimits& limits)
    : message_(message), now_ms_(now_ms), out_(out), limits_(limits) {
    outcome_.first_record = static_cast<uint32_t>(out.records.size());
}

void MessageOutputs::drop(DropCause cause) {
    outcome_.drop = cause;
    finish();
}

void MessageOutputs::dead_letter(DeadLetterReason reason, std::string_view detail) {
    out_.records.resize(outcome_.first_record);  // a dead letter replaces any output
    OutputRecord& r = out_.add_record();
    r.destination = Destination::dead_letter;
    assign(r.key, message_.key);
    assign(r.value, message_.value);
    for (const HeaderView& h : message_.headers) r.headers.add(h.name, h.value);
    r.headers.add("dlq_reason", to_string(reason));
    r.headers.add("dlq_step", dead_letter_step(reason));
    r.headers.add("dlq_error", detail);
    r.headers.add("dlq_timestamp", std::to_string(now_ms_));
    // A Kafka topic name has at most 249 bytes; a file's envelope may claim any: cut to that, so
    // the dlq_* headers alone always fit the smallest limit.
    r.headers.add("dlq_topic", message_.topic.substr(0, max_topic_bytes));
    r.headers.add("dlq_partition", std::to_string(message_.partition));
    r.headers.add("dlq_offset", std::to_string(message_.offset));
    if (message_.dead_letter_attempts > 0)
        r.headers.add("dlq_attempts", std::to_string(uint64_t{message_.dead_letter_attempts} + 1));
    fit_dead_letter(r, message_.headers.size(), limits_.max_message_bytes);
    outcome_ = MessageOutcome{outcome_.first_record, 0, {}, reason, Verification::none, 0, false};
    finish();
}

bool MessageOutputs::emit(Destination destination, const Team& team, bool verified, std::string_view json,
                          const DecodedEvent& event, const std::string* heatmap_uuid) {
    if (json.size() > limits_.max_message_bytes) return too_large();  // cannot fit, whatever follows
    OutputRecord& r = out_.add_record();
    r.destination = destination;
    assign(r.value, json);
    utf8::repair(*r.value);
    std::string& key = *r.key;
    char id[24];
    key.append(id, std::to_chars(id, id + sizeof id, team.id).ptr);
    key += ':';
    key += event.distinct_id;
    utf8::repair(key);
    outcome_.secret_redacted |= secrets::redact_text(key, team);
    add_headers(r.headers, team, verified, heatmap_uuid);
    if (record_wire_size(r) > limits_.max_message_bytes) return too_large();
    return true;
}

bool MessageOutputs::too_large() {
    dead_letter(DeadLetterReason::message_too_large, "an output event exceeds the size limit");
    return false;
}

void MessageOutputs::finish() {
    outcome_.record_count = static_cast<uint32_t>(out_.records.size()) - outcome_.first_record;
    out_.outcomes.push_back(outcome_);
}

void MessageOutputs::add_headers(HeaderList& headers, const Team& team, bool verified,
                                 const std::string* heatmap_uuid) {
    size_t bytes = 64;  // room for the headers added after the loop
    for (const HeaderView& h : message_.headers) bytes += h.name.size() + (h.value ? h.value->size() : 0);
    headers.reserve(message_.headers.size() + 4, bytes);
    std::string name_copy, value_copy;
    const secrets::TextScreen screen(team);
    // Copies only for the rare header that needs repair or redaction.
    const auto needs_work = [&](std::string_view text) {
        return !screen.passes(text) && (!utf8::is_valid(text) || secrets::appears_in_text(text, team));
    };
    for (const HeaderView& h : message_.headers) {
        if (names::is_reserved_header(h.name, heatmap_uuid != nullptr)) continue;
        std::string_view name = h.name;
        if (needs_work(name)) {
            name_copy = utf8::repaired(name);
            outcome_.secret_redacted |= secrets::redact_text(name_copy, team);
            name = name_copy;
        }
        if (!h.value) {
            headers.add(name, std::nullopt);
            continue;
        }
        std::string_view value = *h.value;
        if (needs_work(value)) {
            value_copy = utf8::repaired(value);
            outcome_.secret_redacted |= secrets::redact_text(value_copy, team);
            value = value_copy;
        }
        headers.add(name, value);
    }
    if (heatmap_uuid) {
        headers.add("event", "$$heatmap");
        headers.add("uuid", *heatmap_uuid);
    }
    headers.add("team_id", std::to_string(team.id));
    headers.add("verified", verified ? "true" : "false");
}

}  // namespace warden
