#include "envelope_scan.hpp"

#include <warden/json_scan.hpp>

#include <charconv>
#include <cstdint>

namespace warden {
namespace {

using namespace json_scan;

// Unknown members may nest this deep; deeper ones go to the DOM reader.
constexpr unsigned max_depth = 64;

enum Known : unsigned { topic = 1, partition = 2, offset = 4, key = 8, payload = 16, headers = 32 };

Known known_of(std::string_view name) {
    if (name == "payload") return payload;
    if (name == "headers") return headers;
    if (name == "key") return key;
    if (name == "topic") return topic;
    if (name == "partition") return partition;
    if (name == "offset") return offset;
    return Known{0};
}

// Memory the reader keeps across lines, one per thread.
struct Scratch {
    std::string decoded;  // read_string's
    std::string name, value;
};

// A string or null value at `at`: `text` gets the decoded string, or is reset for null.
bool read_optional_string(const char*& at, const char* end, std::optional<std::string>& text, Scratch& scratch) {
    if (at < end && *at == 'n') {
        text.reset();
        return scan_literal(at, end, "null");
    }
    if (at == end || *at != '"') return false;
    if (!text) text.emplace();
    return read_string(at, end, *text, scratch.decoded);
}

// An integer at `at` that fits `T`, as RapidJSON's IsInt() / IsInt64() see it: no fraction.
template <typename T>
bool read_integer(const char*& at, const char* end, T& out) {
    const char* begin = at;
    if (!scan_number(at, end)) return false;
    const auto [stop, ec] = std::from_chars(begin, at, out);
    return ec == std::errc() && stop == at;
}

// `[name, value, ...]` or null at `at`.
bool read_headers(const char*& at, const char* end, HeaderList& list, Scratch& scratch) {
    list.clear();
    if (at < end && *at == 'n') return scan_literal(at, end, "null");
    if (at == end || *at != '[') return false;
    ++at;
    skip_space(at, end);
    if (at < end && *at == ']') {
        ++at;
        return true;
    }
    for (;;) {
        if (at == end || *at != '"' || !read_string(at, end, scratch.name, scratch.decoded)) return false;
        skip_space(at, end);
        if (at == end || *at != ',') return false;  // a name without its value
        ++at;
        skip_space(at, end);
        if (at < end && *at == 'n') {
            if (!scan_literal(at, end, "null")) return false;
            list.add(scratch.name, std::nullopt);
        } else {
            if (at == end || *at != '"' || !read_string(at, end, scratch.value, scratch.decoded)) return false;
            list.add(scratch.name, scratch.value);
        }
        skip_space(at, end);
        if (at == end) return false;
        if (*at == ']') {
            ++at;
            return true;
        }
        if (*at != ',') return false;
        ++at;
        skip_space(at, end);
    }
}

}  // namespace

bool scan_common_envelope(std::string_view line, OwnedMessage& m) {
    const char* at = line.data();
    const char* end = at + line.size();
    skip_space(at, end);
    if (at == end || *at != '{') return false;
    ++at;
    skip_space(at, end);
    if (at == end || *at == '}') return false;  // no payload

    m.topic.assign(default_input_topic);
    m.partition = 0;
    m.offset = 0;
    m.key.reset();
    m.headers.clear();
    unsigned seen = 0;
    thread_local Scratch scratch;
    bool closed = false, ok = true;
    do {
        Span name;
        if (!scan_name(at, end, name)) return false;
        const Known known = known_of(name.text());
        if (seen & known) return false;  // the last one would win: the DOM reader sorts that out
        seen |= known;
        switch (known) {
            case topic: {
                if (at < end && *at == 'n') {  // null: the default topic stands
                    if (!scan_literal(at, end, "null")) return false;
                    break;
                }
                if (at == end || *at != '"' || !read_string(at, end, m.topic, scratch.decoded)) return false;
                break;
            }
            case partition:
                if (!read_integer(at, end, m.partition)) return false;
                break;
            case offset:
                if (!read_integer(at, end, m.offset)) return false;
                break;
            case key:
                if (!read_optional_string(at, end, m.key, scratch)) return false;
                break;
            case payload:
                if (!read_optional_string(at, end, m.value, scratch)) return false;
                break;
            case headers:
                if (!read_headers(at, end, m.headers, scratch)) return false;
                break;
            default:
                if (!scan_value(at, end, 1, max_depth)) return false;
        }
    } while (next_member(at, end, closed, ok));
    if (!ok || !(seen & payload)) return false;
    return at == end;  // next_member skipped the whitespace after the object
}

}  // namespace warden
