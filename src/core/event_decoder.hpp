// Decodes a capture message value into the merged event of SPEC §2, without copying it.
#pragma once

#include <warden/core.hpp>

#include "json_parse.hpp"

#include <string>
#include <string_view>

namespace warden {

// The merged event: the client's `data` overlaid by the outer capture fields. Pointers refer to
// the parsed documents; each is the effective value (outer over data, last duplicate wins).
struct DecodedEvent {
    const json::Value* outer = nullptr;  // the capture object
    const json::Value* data = nullptr;   // the client's event object
    const json::Value* data_member = nullptr;  // the outer `data` member it was decoded from

    std::string_view uuid;
    std::string event;        // stringified when the client sent a number or boolean
    std::string distinct_id;  // stringified, NUL replaced by U+FFFD
    const json::Value* properties = nullptr;  // object or nullptr
    const json::Value* set = nullptr;         // top-level $set (object or nullptr)
    const json::Value* set_once = nullptr;    // top-level $set_once
    const json::Value* ip = nullptr;
    const json::Value* timestamp = nullptr;
    const json::Value* now = nullptr;
    const json::Value* sent_at = nullptr;
};

struct DecodeFailure {
    DeadLetterReason reason;
    std::string_view detail;  // a fixed description, never message content
};

// Parses `buffer[0, size)` in place (buffer[size] must be NUL) into `outer_doc`/`data_doc`.
// Returns a failure for anything SPEC §2 calls malformed, or an empty/invalid uuid.
std::optional<DecodeFailure> decode_event(char* buffer, size_t size, json::Document& outer_doc,
                                          json::Document& data_doc, unsigned max_depth,
                                          DecodedEvent& event);

}  // namespace warden
