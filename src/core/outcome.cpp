// Names of outcomes and the running counters behind the summary.
#include <warden/core.hpp>

#include <algorithm>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace warden {

std::string_view to_string(DropCause cause) {
    switch (cause) {
        case DropCause::no_token: return "no_token";
        case DropCause::invalid_token: return "invalid_token";
        case DropCause::heatmap_opt_in_disabled: return "heatmap_opt_in_disabled";
        case DropCause::quota_limited: return "quota_limited";
        case DropCause::insufficient_scope: return "insufficient_scope";
    }
    return "unknown";
}

std::optional<QuotaResource> billed_as(Destination destination) {
    switch (destination) {
        case Destination::analytics:
        case Destination::heatmaps: return QuotaResource::events;
        case Destination::error_tracking: return QuotaResource::exceptions;
        case Destination::dead_letter: return std::nullopt;
    }
    return std::nullopt;
}

std::string_view to_string(QuotaResource resource) {
    switch (resource) {
        case QuotaResource::events: return "events";
        case QuotaResource::exceptions: return "exceptions";
    }
    return "unknown";
}

std::string_view to_string(DeadLetterReason reason) {
    switch (reason) {
        case DeadLetterReason::failed_parse_message: return "failed_parse_message";
        case DeadLetterReason::empty_uuid: return "empty_uuid";
        case DeadLetterReason::invalid_uuid: return "invalid_uuid";
        case DeadLetterReason::message_too_large: return "message_too_large";
    }
    return "unknown";
}

const std::string& TopicNames::name_of(Destination d) const {
    switch (d) {
        case Destination::analytics: return analytics;
        case Destination::error_tracking: return error_tracking;
        case Destination::heatmaps: return heatmaps;
        case Destination::dead_letter: return dead_letter;
    }
    return analytics;
}

std::vector<std::pair<std::string, uint64_t>> TopicNames::by_topic(const uint64_t (&per_destination)[4]) const {
    std::vector<std::pair<std::string, uint64_t>> out;
    for (size_t i = 0; i < destination_count; ++i) {
        const std::string& name = name_of(static_cast<Destination>(i));
        auto it = std::find_if(out.begin(), out.end(), [&](const auto& entry) { return entry.first == name; });
        if (it == out.end()) {
            out.emplace_back(name, per_destination[i]);
        } else {
            it->second += per_destination[i];
        }
    }
    return out;
}

void OutcomeCounters::add(const BatchResult& batch) {
    consumed += batch.outcomes.size();
    for (const OutputRecord& r : batch.records) ++produced[static_cast<size_t>(r.destination)];
    for (const MessageOutcome& o : batch.outcomes) {
        if (o.drop) ++dropped[static_cast<size_t>(*o.drop)];
        if (o.dead_letter) ++dead_letters[static_cast<size_t>(*o.dead_letter)];
        verified += o.verification == Verification::verified;
        stripped += o.verification == Verification::stripped;
        redacted += o.secret_redacted;
    }
}

void OutcomeCounters::add(const OutcomeCounters& other) {
    consumed += other.consumed;
    for (size_t i = 0; i < destination_count; ++i) produced[i] += other.produced[i];
    for (size_t i = 0; i < drop_cause_count; ++i) dropped[i] += other.dropped[i];
    for (size_t i = 0; i < dead_letter_reason_count; ++i) dead_letters[i] += other.dead_letters[i];
    verified += other.verified;
    stripped += other.stripped;
    redacted += other.redacted;
}

std::string OutcomeCounters::summary_json(const TopicNames& topics) const {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    auto key = [&](std::string_view k) { w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size())); };
    w.StartObject();
    key("consumed");
    w.Uint64(consumed);
    key("produced");
    w.StartObject();
    for (const auto& [topic, count] : topics.by_topic(produced)) {
        if (count == 0) continue;
        key(topic);
        w.Uint64(count);
    }
    w.EndObject();
    key("dropped");
    w.StartObject();
    for (size_t i = 0; i < drop_cause_count; ++i) {
        if (dropped[i] == 0) continue;
        key(to_string(static_cast<DropCause>(i)));
        w.Uint64(dropped[i]);
    }
    w.EndObject();
    key("dlq");
    w.StartObject();
    for (size_t i = 0; i < dead_letter_reason_count; ++i) {
        if (dead_letters[i] == 0) continue;
        key(to_string(static_cast<DeadLetterReason>(i)));
        w.Uint64(dead_letters[i]);
    }
    w.EndObject();
    key("verified");
    w.Uint64(verified);
    key("stripped");
    w.Uint64(stripped);
    key("redacted");
    w.Uint64(redacted);
    w.EndObject();
    return {buffer.GetString(), buffer.GetSize()};
}

}  // namespace warden
