#include "json_parse.hpp"

#include <rapidjson/reader.h>

#include <cstring>
#include <string_view>

namespace warden::json {
namespace {

// Forwards SAX events to the document, refusing to go deeper than the limit.
template <typename Handler>
struct DepthLimiter {
    Handler& next;
    unsigned max_depth;
    unsigned depth = 0;

    bool Null() { return next.Null(); }
    bool Bool(bool b) { return next.Bool(b); }
    bool Int(int i) { return next.Int(i); }
    bool Uint(unsigned u) { return next.Uint(u); }
    bool Int64(int64_t i) { return next.Int64(i); }
    bool Uint64(uint64_t u) { return next.Uint64(u); }
    bool Double(double d) { return next.Double(d); }
    bool RawNumber(const char* s, rapidjson::SizeType n, bool copy) { return next.RawNumber(s, n, copy); }
    bool String(const char* s, rapidjson::SizeType n, bool copy) { return next.String(s, n, copy); }
    bool Key(const char* s, rapidjson::SizeType n, bool copy) { return next.Key(s, n, copy); }
    bool StartObject() { return ++depth <= max_depth && next.StartObject(); }
    bool EndObject(rapidjson::SizeType n) {
        --depth;
        return next.EndObject(n);
    }
    bool StartArray() { return ++depth <= max_depth && next.StartArray(); }
    bool EndArray(rapidjson::SizeType n) {
        --depth;
        return next.EndArray(n);
    }
};

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// The code unit of the `\uXXXX` escape at text[at] (the backslash), or -1.
int escaped_unit(const char* text, size_t size, size_t at) {
    if (at + 6 > size || text[at] != '\\' || text[at + 1] != 'u') return -1;
    int unit = 0;
    for (size_t i = at + 2; i < at + 6; ++i) {
        const int digit = hex_digit(text[i]);
        if (digit < 0) return -1;
        unit = unit * 16 + digit;
    }
    return unit;
}

bool is_high(int unit) { return unit >= 0xD800 && unit <= 0xDBFF; }
bool is_low(int unit) { return unit >= 0xDC00 && unit <= 0xDFFF; }

}  // namespace

size_t repair_lone_surrogates(char* text, size_t size) {
    size_t repaired = 0;
    const std::string_view all(text, size);
    for (size_t at = all.find("\\u"); at != std::string_view::npos; at = all.find("\\u", at)) {
        // An escape only when an even number of backslashes precede this one.
        size_t backslashes = 0;
        while (backslashes < at && text[at - 1 - backslashes] == '\\') ++backslashes;
        if (backslashes % 2 == 1) {
            at += 2;
            continue;
        }
        const int unit = escaped_unit(text, size, at);
        if (is_high(unit) && is_low(escaped_unit(text, size, at + 6))) {
            at += 12;  // a pair: kept
            continue;
        }
        if (is_high(unit) || is_low(unit)) {
            // Overwrites four hex digits in place: no terminator belongs there.
            std::memcpy(text + at + 2, "FFFD", 4);  // NOLINT(bugprone-not-null-terminated-result)
            ++repaired;
        }
        at += 2;
    }
    return repaired;
}

bool parse_in_place(char* text, size_t size, Document& doc, unsigned max_depth) {
    // The recursive parser is safe here: StartObject/StartArray fail past max_depth before the
    // parser descends, so its recursion is bounded by the limit (and it is faster than the
    // iterative one).
    repair_lone_surrogates(text, size);
    constexpr unsigned flags = rapidjson::kParseInsituFlag;
    bool ok = false;
    size_t consumed = 0;
    auto generate = [&](Document& handler) {
        rapidjson::InsituStringStream stream(text);
        DepthLimiter<Document> limiter{handler, max_depth};
        rapidjson::GenericReader<rapidjson::UTF8<>, rapidjson::UTF8<>, Allocator> reader(&doc.GetAllocator());
        ok = !reader.Parse<flags>(stream, limiter).IsError();
        consumed = stream.Tell();
        return ok;
    };
    doc.Populate(generate);
    // A raw NUL ends the stream early; anything after it is trailing garbage.
    return ok && consumed == size;
}

const Value* find_last(const Value& object, std::string_view name) {
    const Value* found = nullptr;
    for (auto m = object.MemberBegin(); m != object.MemberEnd(); ++m) {
        if (view(m->name) == name) found = &m->value;
    }
    return found;
}

}  // namespace warden::json
