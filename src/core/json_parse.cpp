#include "json_parse.hpp"

#include <rapidjson/reader.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <system_error>

namespace warden::json {
namespace {

// Whether a number a double cannot hold (text in JSON's grammar, not zero) is too large, rather than
// too close to zero: the power of ten of its first non-zero digit is positive.
bool too_large(std::string_view number) {
    if (number.front() == '-') number.remove_prefix(1);
    const size_t point = std::min(number.find_first_of(".eE"), number.size());
    const size_t mantissa_end = std::min(number.find_first_of("eE"), number.size());
    const size_t first = number.find_first_not_of("0.");
    if (first >= mantissa_end) return false;  // zero
    // The power of ten of the first non-zero digit, before the exponent.
    int64_t power = first < point ? static_cast<int64_t>(point - first) - 1 : -static_cast<int64_t>(first - point);
    if (mantissa_end < number.size()) {
        size_t at = mantissa_end + 1;
        const bool negative = number[at] == '-';
        if (number[at] == '-' || number[at] == '+') ++at;
        int64_t exponent = 0;
        for (; at < number.size(); ++at)
            exponent = std::min<int64_t>(exponent * 10 + (number[at] - '0'), int64_t{1} << 40);
        power += negative ? -exponent : exponent;
    }
    return power > 0;
}

// Forwards SAX events to the document, refusing to go deeper than the limit. Numbers come as text
// (the reader checked their grammar) and are read here exactly: an integer that fits 64 bits as that
// integer, any other number as the double nearest to it. RapidJSON's own conversion is not exact
// (without kParseFullPrecisionFlag ~1 in 10 long decimals is off by a unit in the last place, and
// with it some overflows come out as small numbers: -5e308 as 8.7e-309); and it lets some overflows
// through as infinity ("1.7976931348623159e308", "10e308"), which no JSON text can hold (a writer
// refuses to print it). A number too large for a double is refused, so the value holding it is
// unusable, as one holding `1e400` is (the reader refuses that one itself); one too close to zero
// is zero, as for any reader.
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
    bool Double(double d) { return std::isfinite(d) && next.Double(d); }
    bool RawNumber(const char* s, rapidjson::SizeType n, bool /*copy*/) {
        const char* const end = s + n;
        const bool negative = *s == '-';
        const char* const digits = s + (negative ? 1 : 0);
        uint64_t magnitude = 0;
        if (const auto [stop, ec] = std::from_chars(digits, end, magnitude); ec == std::errc() && stop == end) {
            if (!negative)
                return magnitude <= UINT32_MAX ? next.Uint(static_cast<unsigned>(magnitude)) : next.Uint64(magnitude);
            if (magnitude <= uint64_t{1} << 31) return next.Int(static_cast<int>(0 - static_cast<int64_t>(magnitude)));
            if (magnitude <= uint64_t{1} << 63) return next.Int64(static_cast<int64_t>(~magnitude + 1));
        }
        double d = 0;
        const auto [stop, ec] = std::from_chars(s, end, d);
        if (ec == std::errc::result_out_of_range) {
            if (too_large({s, n})) return false;
            d = negative ? -0.0 : 0.0;
        } else if (ec != std::errc() || stop != end) {
            return false;
        }
        return Double(d);
    }
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
    // Numbers as text, read exactly by the handler (see DepthLimiter), so each is written back as
    // the double it was sent as.
    constexpr unsigned flags = rapidjson::kParseInsituFlag | rapidjson::kParseNumbersAsStringsFlag;
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
