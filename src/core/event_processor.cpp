// EventProcessor: one message in, its outcome out (SPEC §2–§6).
#include <warden/core.hpp>

#include "event_decoder.hpp"
#include "event_writer.hpp"
#include "record_size.hpp"
#include "reserved_names.hpp"
#include "secret_redaction.hpp"
#include "token.hpp"
#include "utf8.hpp"
#include "uuid.hpp"
#include "verification.hpp"

#include <array>
#include <stdexcept>
#include <string>

namespace warden {
namespace {

constexpr size_t arena_bytes = size_t{64} * 1024;
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

struct EventProcessor::Scratch {
    TopicNames topics;
    CoreLimits limits;
    std::array<char, arena_bytes> arena_buffer;
    json::Allocator arena{arena_buffer.data(), arena_buffer.size()};
    // Parse stacks come from the arena too: RapidJSON releases a document's stack after each
    // parse, so it is allocated afresh after every arena.Clear().
    json::Document outer{&arena, 1024, &arena};
    json::Document data{&arena, 1024, &arena};
    std::string input;  // a mutable, NUL-terminated copy of the value for in-place parsing
    RenderedJson main_json;
    RenderedJson heatmap_json;

    // Copies the value and parses it; the documents stay valid until the next call.
    char* load(std::string_view value) {
        arena.Clear();
        input.assign(value);
        return input.data();
    }
};

EventProcessor::EventProcessor(TopicNames topics, CoreLimits limits) : scratch_(std::make_unique<Scratch>()) {
    if (limits.max_message_bytes < CoreLimits::min_message_bytes) {
        throw std::invalid_argument("the message size limit must be at least " +
                                    std::to_string(CoreLimits::min_message_bytes) + " bytes, so a dead letter fits");
    }
    scratch_->topics = std::move(topics);
    scratch_->limits = limits;
}

EventProcessor::~EventProcessor() = default;

const TopicNames& EventProcessor::topics() const { return scratch_->topics; }

TokenLookup EventProcessor::find_token(const MessageView& message) {
    std::optional<std::string_view> candidate = message.header("token");
    std::string from_value;
    if (!candidate) {
        Scratch& s = *scratch_;
        if (!message.value || message.value->size() > s.limits.max_message_bytes) return {TokenStatus::unreadable, {}};
        char* text = s.load(*message.value);
        if (!json::parse_in_place(text, s.input.size(), s.outer, s.limits.max_json_depth) || !s.outer.IsObject()) {
            return {TokenStatus::unreadable, {}};
        }
        const json::Value* token = json::find_last(s.outer, "token");
        if (!token || token->IsNull() || (token->IsString() && token->GetStringLength() == 0)) {
            return {TokenStatus::missing, {}};
        }
        if (!token->IsString()) return {TokenStatus::invalid, {}};
        from_value.assign(json::view(*token));
        candidate = from_value;
    }
    if (!token::is_acceptable(*candidate)) return {TokenStatus::invalid, {}};
    return {TokenStatus::candidate, std::string(*candidate)};
}

namespace {

// Builds outputs for one message into `out`; kept apart from the class to read top-down.
class MessageRun {
public:
    MessageRun(const MessageView& message, int64_t now_ms, BatchResult& out, const CoreLimits& limits)
        : message_(message), now_ms_(now_ms), out_(out), limits_(limits) {
        outcome_.first_record = static_cast<uint32_t>(out.records.size());
    }

    void drop(DropCause cause) {
        outcome_.drop = cause;
        finish();
    }

    void dead_letter(DeadLetterReason reason, std::string_view detail) {
        out_.records.resize(outcome_.first_record);  // a dead letter replaces any output
        OutputRecord& r = out_.records.emplace_back();
        r.destination = Destination::dead_letter;
        if (message_.key) r.key.emplace(*message_.key);
        if (message_.value) r.value.emplace(*message_.value);
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
        fit_dead_letter(r, message_.headers.size(), limits_.max_message_bytes);
        outcome_ = MessageOutcome{outcome_.first_record, 0, {}, reason, Verification::none, false};
        finish();
    }

    // Adds an enriched event; returns false when it had to be dead-lettered for its size, which
    // is checked on the record's final bytes (after UTF-8 repair and redaction, headers and key
    // included), as the broker will count them.
    bool emit(Destination destination, const Team& team, bool verified, std::string_view json,
              const DecodedEvent& event, const std::string* heatmap_uuid) {
        if (json.size() > limits_.max_message_bytes) return too_large();  // cannot fit, whatever follows
        OutputRecord& r = out_.records.emplace_back();
        r.destination = destination;
        r.value.emplace(json);
        utf8::repair(*r.value);
        std::string key;
        key.reserve(21 + event.distinct_id.size());  // int64 digits, sign and : in one allocation
        key += std::to_string(team.id);
        key += ':';
        key += event.distinct_id;
        utf8::repair(key);
        outcome_.secret_redacted |= secrets::redact_text(key, team);
        r.key.emplace(std::move(key));
        add_headers(r.headers, team, verified, heatmap_uuid);
        if (record_wire_size(r) > limits_.max_message_bytes) return too_large();
        return true;
    }

    MessageOutcome& outcome() { return outcome_; }

    bool too_large() {
        dead_letter(DeadLetterReason::message_too_large, "an output event exceeds the size limit");
        return false;
    }

    void finish() {
        outcome_.record_count = static_cast<uint32_t>(out_.records.size()) - outcome_.first_record;
        out_.outcomes.push_back(outcome_);
    }

private:
    void add_headers(HeaderList& headers, const Team& team, bool verified, const std::string* heatmap_uuid) {
        size_t bytes = 64;  // room for the headers added after the loop
        for (const HeaderView& h : message_.headers) bytes += h.name.size() + (h.value ? h.value->size() : 0);
        headers.reserve(message_.headers.size() + 4, bytes);
        std::string name_copy, value_copy;
        for (const HeaderView& h : message_.headers) {
            if (names::is_reserved_header(h.name, heatmap_uuid != nullptr)) continue;
            // Copies only for the rare header that needs repair or redaction.
            std::string_view name = h.name;
            if (!utf8::is_valid(name) || secrets::appears_in_text(name, team)) {
                name_copy = utf8::repaired(name);
                outcome_.secret_redacted |= secrets::redact_text(name_copy, team);
                name = name_copy;
            }
            if (!h.value) {
                headers.add(name, std::nullopt);
                continue;
            }
            std::string_view value = *h.value;
            if (!utf8::is_valid(value) || secrets::appears_in_text(value, team)) {
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

    const MessageView& message_;
    int64_t now_ms_;
    BatchResult& out_;
    const CoreLimits& limits_;
    MessageOutcome outcome_;
};

Destination route(std::string_view event_name) {
    if (event_name == "$exception") return Destination::error_tracking;
    if (event_name == "$$heatmap") return Destination::heatmaps;
    return Destination::analytics;
}

}  // namespace

void EventProcessor::process(const MessageView& message, const Resolution& resolution, int64_t now_ms,
                             BatchResult& out) {
    Scratch& s = *scratch_;
    MessageRun run(message, now_ms, out, s.limits);
    if (resolution.drop) return run.drop(*resolution.drop);

    if (!message.value) return run.dead_letter(DeadLetterReason::failed_parse_message, "message has no value");
    // The whole input, headers and key included: nothing past the limit is parsed, repaired or
    // redacted (each costs time in proportion to the size, and the output could not fit anyway).
    if (input_wire_size(message) > s.limits.max_message_bytes) {
        return run.dead_letter(DeadLetterReason::message_too_large, "the input message exceeds the size limit");
    }
    char* text = s.load(*message.value);
    DecodedEvent event;
    if (auto failure = decode_event(text, s.input.size(), s.outer, s.data, s.limits.max_json_depth, event)) {
        return run.dead_letter(failure->reason, failure->detail);
    }
    if (!resolution.team) return run.drop(DropCause::no_token);  // parsed now, but had no token
    const Team& team = *resolution.team;

    const bool verified = team.is_secret(resolution.token);
    const Destination destination = route(event.event);
    const bool heatmaps_allowed = team.heatmaps_opt_in.value_or(true);
    if (destination == Destination::heatmaps && !heatmaps_allowed) {
        return run.drop(DropCause::heatmap_opt_in_disabled);
    }
    const bool split = destination != Destination::heatmaps && event.properties &&
                       json::find_last(*event.properties, "$heatmap_data") != nullptr &&
                       message.header("skip_heatmap_processing") != std::optional<std::string_view>("true");

    const bool emit_heatmap = split && heatmaps_allowed;
    const std::string heatmap_uuid = emit_heatmap ? uuid::derive("$$heatmap:" + std::string(event.uuid)) : std::string();
    auto render = [&] {
        render_event(event, team, {verified, split}, s.main_json);
        if (emit_heatmap) render_heatmap_event(event, team, verified, heatmap_uuid, s.heatmap_json);
    };
    render();
    if (secrets::appears_in_json(s.main_json.text(), team) ||
        (emit_heatmap && secrets::appears_in_json(s.heatmap_json.text(), team))) {
        secrets::redact_tree(s.outer, team, s.arena);
        if (event.data == &s.data) secrets::redact_tree(s.data, team, s.arena);
        secrets::redact_text(event.event, team);
        secrets::redact_text(event.distinct_id, team);
        render();
        run.outcome().secret_redacted = true;
    }

    MessageOutcome& outcome = run.outcome();
    outcome.verification = verified ? Verification::verified
                                    : (has_client_verified(event, s.limits.max_json_depth) ? Verification::stripped : Verification::none);
    if (!run.emit(destination, team, verified, s.main_json.text(), event, nullptr)) return;
    if (split) {
        if (!heatmaps_allowed) {
            outcome.drop = DropCause::heatmap_opt_in_disabled;
        } else {
            if (!run.emit(Destination::heatmaps, team, verified, s.heatmap_json.text(), event, &heatmap_uuid)) {
                return;
            }
        }
    }
    run.finish();
}

}  // namespace warden
