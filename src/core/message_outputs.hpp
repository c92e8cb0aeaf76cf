// The last stage: one message's outcome and records, appended to the batch result. A drop, a
// dead letter carrying the input and its cause, or the enriched events with their key and headers.
#pragma once

#include <warden/core.hpp>

#include "event_decoder.hpp"

#include <string>
#include <string_view>

namespace warden {

class MessageOutputs {
public:
    MessageOutputs(const MessageView& message, int64_t now_ms, BatchResult& out, const CoreLimits& limits);

    // Each of these ends the message: its outcome is appended.
    void drop(DropCause cause);
    void dead_letter(DeadLetterReason reason, std::string_view detail);
    void finish();

    // Adds an enriched event; returns false when it had to be dead-lettered for its size (the
    // message has ended then). Size is checked on the record's final bytes (after UTF-8 repair
    // and redaction, headers and key included), as the broker will count them.
    bool emit(Destination destination, const Team& team, bool verified, std::string_view json,
              const DecodedEvent& event, const std::string* heatmap_uuid);

    MessageOutcome& outcome() { return outcome_; }

private:
    bool too_large();
    void add_headers(HeaderList& headers, const Team& team, bool verified, const std::string* heatmap_uuid);

    const MessageView& message_;
    int64_t now_ms_;
    BatchResult& out_;
    const CoreLimits& limits_;
    MessageOutcome outcome_;
};

}  // namespace warden
