// Decoding: a capture message value into the merged event of SPEC §2, without copying it.
#pragma once

#include <warden/core.hpp>

#include "json_parse.hpp"

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace warden {

// The merged event: the client's `data` overlaid by the outer capture fields. Pointers refer to
// the parsed documents; each is the effective value (outer over data, last duplicate wins).
struct DecodedEvent {
    const json::Value* outer = nullptr;        // the capture object
    const json::Value* data = nullptr;         // the client's event object
    const json::Value* data_member = nullptr;  // the outer `data` member it was decoded from

    std::string_view uuid;
    std::string event;                        // stringified when the client sent a number or boolean
    std::string distinct_id;                  // stringified, NUL replaced by U+FFFD
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

// A message value parsed in place, with the memory that holds it: a mutable NUL-terminated copy
// of the value, the arena, and the documents of the outer object and of a `data` string. A value
// parsed to find its token is kept and decoded from, so no value is parsed twice.
class ParsedValue {
public:
    // The arena starts in `first_chunk` (may be empty) and grows on the heap.
    explicit ParsedValue(std::span<char> first_chunk = {});
    ~ParsedValue() = default;
    // The documents point into the arena and the input: not copied, not moved.
    ParsedValue(const ParsedValue&) = delete;
    ParsedValue& operator=(const ParsedValue&) = delete;
    ParsedValue(ParsedValue&&) = delete;
    ParsedValue& operator=(ParsedValue&&) = delete;

    // Copies `value` and parses its outer level, replacing what was parsed before.
    void parse(std::string_view value, unsigned max_depth);

    // Why the value is not a JSON object (nullopt when it is), after parse().
    const std::optional<DecodeFailure>& failure() const { return failure_; }
    // The outer object; valid after a parse() without failure.
    json::Document& outer() { return outer_; }
    json::Document& data() { return data_; }
    json::Allocator& arena() { return arena_; }

private:
    std::string input_;
    json::Allocator arena_;
    // Parse stacks come from the arena too: RapidJSON releases a document's stack after each
    // parse, so it is allocated afresh after every arena_.Clear().
    json::Document outer_{&arena_, 1024, &arena_};
    json::Document data_{&arena_, 1024, &arena_};
    std::optional<DecodeFailure> failure_;
};

// Decodes a parsed value (failure() empty) into the merged event, parsing a `data` string in
// place into value.data(). Returns a failure for anything SPEC §2 calls malformed, or an
// empty/invalid uuid.
std::optional<DecodeFailure> decode_event(ParsedValue& value, unsigned max_depth, DecodedEvent& event);

}  // namespace warden
