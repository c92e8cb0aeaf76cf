// EventProcessor: one message through the core's stages, top to bottom (SPEC §2–§6).
#include <warden/core.hpp>

#include "event_decoder.hpp"
#include "message_outputs.hpp"
#include "record_size.hpp"
#include "rendering.hpp"
#include "routing.hpp"
#include "secret_redaction.hpp"
#include "single_pass.hpp"
#include "token_classification.hpp"
#include "uuid.hpp"
#include "verification.hpp"

#include <array>
#include <stdexcept>
#include <string>
#include <vector>

namespace warden {
namespace {

constexpr size_t arena_bytes = size_t{64} * 1024;
// Values find_token keeps for process(), at most this many bytes of them per batch: a batch of
// large values without a token header must not hold all their parses at once. Past it a value is
// parsed for its token and again when processed.
constexpr size_t kept_value_bytes = size_t{16} << 20;

// The outputs of a rendered event, the same for both renderers: the main event, then the
// split-off heatmap event or the count of its drop.
void emit_outputs(MessageOutputs& outputs, const Team& team, Verification verification, StripPlaces stripped_from,
                  const Route& where, std::string_view main_json, std::string_view heatmap_json,
                  const DecodedEvent& event, const std::string& heatmap_uuid) {
    const bool verified = verification == Verification::verified;
    outputs.outcome().verification = verification;
    outputs.outcome().stripped_from = stripped_from;
    if (!outputs.emit(where.destination, team, verified, main_json, event, nullptr)) return;
    if (where.split_heatmap && !where.emit_heatmap) {
        outputs.outcome().drop = DropCause::heatmap_opt_in_disabled;
    } else if (where.emit_heatmap &&
               !outputs.emit(Destination::heatmaps, team, verified, heatmap_json, event, &heatmap_uuid)) {
        return;
    }
    outputs.finish();
}

}  // namespace

// Memory reused from message to message.
struct EventProcessor::Workspace {
    std::array<char, arena_bytes> arena_buffer;
    ParsedValue value{arena_buffer};  // the value of a message with a token header
    // Values parsed by find_token in this batch, the first `lookup_values_used` of them, which
    // hold `lookup_value_bytes` bytes of input.
    std::vector<std::unique_ptr<ParsedValue>> lookup_values;
    size_t lookup_values_used = 0;
    size_t lookup_value_bytes = 0;
    RenderedJson main_json;
    RenderedJson heatmap_json;
    SinglePass single_pass;
    SinglePassResult single_pass_result;

    ParsedValue& next_lookup_value() {
        if (lookup_values_used == lookup_values.size()) lookup_values.push_back(std::make_unique<ParsedValue>());
        return *lookup_values[lookup_values_used++];
    }
};

EventProcessor::EventProcessor(TopicNames topics, CoreLimits limits)
    : topics_(std::move(topics)), limits_(limits), workspace_(std::make_unique<Workspace>()) {
    if (limits.max_message_bytes < CoreLimits::min_message_bytes) {
        throw std::invalid_argument("the message size limit must be at least " +
                                    std::to_string(CoreLimits::min_message_bytes) + " bytes, so a dead letter fits");
    }
}

EventProcessor::~EventProcessor() = default;

void EventProcessor::start_batch() {
    Workspace& w = *workspace_;
    w.lookup_values_used = 0;
    w.lookup_value_bytes = 0;
    // A batch of values without a token header is rare: do not hold its memory for long.
    if (w.lookup_values.size() > 64) w.lookup_values.resize(64);
}

TokenLookup EventProcessor::find_token(const MessageView& message) {
    if (std::optional<std::string_view> header = message.header("token")) return token::classify(*header);
    // Larger values are dead-lettered unparsed (see process).
    if (!message.value || message.value->size() > limits_.max_message_bytes) return {TokenStatus::unreadable, {}};
    Workspace& w = *workspace_;
    const bool keep = w.lookup_value_bytes + message.value->size() <= kept_value_bytes;
    // Past the budget the processor's own value serves: process() runs after the whole batch's
    // find_token calls and parses it again.
    ParsedValue& parsed = keep ? w.next_lookup_value() : w.value;
    parsed.parse(*message.value, limits_.max_json_depth);
    TokenLookup lookup = token::classify_value_field(parsed.failure() ? nullptr : &parsed.outer());
    if (keep) {
        w.lookup_value_bytes += message.value->size();
        lookup.parsed = &parsed;
    }
    return lookup;
}

void EventProcessor::process(const MessageView& message, const Resolution& resolution, int64_t now_ms,
                             BatchResult& out) {
    Workspace& w = *workspace_;
    MessageOutputs outputs(message, now_ms, out, limits_);
    if (resolution.drop) return outputs.drop(*resolution.drop);

    // Decoding. The whole input, headers and key included, is checked first: nothing past the
    // limit is parsed, repaired or redacted (each costs time in proportion to the size, and the
    // output could not fit anyway).
    if (!message.value) return outputs.dead_letter(DeadLetterReason::failed_parse_message, "message has no value");
    if (input_wire_size(message) > limits_.max_message_bytes) {
        return outputs.dead_letter(DeadLetterReason::message_too_large, "the input message exceeds the size limit");
    }
    // The common shape in one pass; anything else (and any value found without a token header,
    // already parsed) through the documents below.
    if (limits_.single_pass && !resolution.parsed && resolution.team) {
        const bool verified = verifies(resolution.credential);
        const bool skip_heatmap = message.header("skip_heatmap_processing") == std::optional<std::string_view>("true");
        SinglePassResult& fast = w.single_pass_result;
        if (w.single_pass.render(*message.value, *resolution.team, verified, skip_heatmap, limits_.max_json_depth,
                                 fast)) {
            if (resolution.over_quota(fast.route.destination)) return outputs.drop(DropCause::quota_limited);
            if (fast.route.dropped_by_opt_out) return outputs.drop(DropCause::heatmap_opt_in_disabled);
            DecodedEvent event;
            event.distinct_id.assign(fast.distinct_id);
            return emit_outputs(outputs, *resolution.team, fast.verification, fast.stripped_from, fast.route,
                                fast.main_json, fast.heatmap_json, event, fast.heatmap_uuid);
        }
    }
    ParsedValue& value = resolution.parsed ? *resolution.parsed : w.value;
    if (!resolution.parsed) value.parse(*message.value, limits_.max_json_depth);
    DecodedEvent event;
    if (auto failure = decode_event(value, limits_.max_json_depth, event)) {
        return outputs.dead_letter(failure->reason, failure->detail);
    }
    if (!resolution.team) return outputs.drop(DropCause::no_token);  // parsed now, but had no token
    const Team& team = *resolution.team;

    // Verification and routing.
    const VerificationResult verification = verify(event, resolution.credential, limits_.max_json_depth);
    const bool verified = verification.verification == Verification::verified;
    const Route where = route(event, team, message);
    // An event of a team over its quota is dropped whole, whatever else would become of it.
    if (resolution.over_quota(where.destination)) return outputs.drop(DropCause::quota_limited);
    if (where.dropped_by_opt_out) return outputs.drop(DropCause::heatmap_opt_in_disabled);

    // Rendering, again after redaction when a secret would reach the output.
    const std::string heatmap_uuid =
        where.emit_heatmap ? uuid::derive("$$heatmap:" + std::string(event.uuid)) : std::string();
    // A value JSON cannot hold (parsing refuses non-finite numbers, so none is expected) makes the
    // event unusable: never a text cut short.
    auto render = [&] {
        const bool main_ok = render_event(event, team, {verified, where.split_heatmap}, w.main_json);
        return main_ok &&
               (!where.emit_heatmap || render_heatmap_event(event, team, verified, heatmap_uuid, w.heatmap_json));
    };
    constexpr std::string_view unwritable = "the event holds a value that cannot be written as JSON";
    if (!render()) return outputs.dead_letter(DeadLetterReason::failed_parse_message, unwritable);
    if (secrets::appears_in_json(w.main_json.text(), team) ||
        (where.emit_heatmap && secrets::appears_in_json(w.heatmap_json.text(), team))) {
        secrets::redact_tree(value.outer(), team, value.arena());
        if (event.data == &value.data()) secrets::redact_tree(value.data(), team, value.arena());
        secrets::redact_text(event.event, team);
        secrets::redact_text(event.distinct_id, team);
        if (!render()) return outputs.dead_letter(DeadLetterReason::failed_parse_message, unwritable);
        outputs.outcome().secret_redacted = true;
    }

    emit_outputs(outputs, team, verification.verification, verification.stripped_from, where, w.main_json.text(),
                 w.heatmap_json.text(), event, heatmap_uuid);
}

}  // namespace warden
