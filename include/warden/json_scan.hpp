// json_scan: JSON read and written as text, without a document, for the fast paths (the core's
// single-pass renderer, `process`'s envelope lines). Each reader accepts a strict subset of JSON
// and declines the rest, so its caller can hand anything unusual to a validating parser.
#pragma once

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace warden::json_scan {

// A scanned stretch of text: [begin, end); absent when begin is null.
struct Span {
    const char* begin = nullptr;
    const char* end = nullptr;
    bool present() const { return begin != nullptr; }
    std::string_view text() const { return {begin, static_cast<size_t>(end - begin)}; }
};

struct Member {
    Span name;  // without quotes
    Span value;
};

#if defined(__SSE2__)
// The bytes of sixteen that end a run of plain string text: a quote, a backslash or a control
// character, as a bit mask.
inline int special_mask(__m128i bytes) {
    const __m128i below_space = _mm_set1_epi8(0x1F);
    // Unsigned c <= 0x1F is max(c, 0x1F) == 0x1F.
    const __m128i special = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(bytes, _mm_set1_epi8('"')), _mm_cmpeq_epi8(bytes, _mm_set1_epi8('\\'))),
        _mm_cmpeq_epi8(_mm_max_epu8(bytes, below_space), below_space));
    return _mm_movemask_epi8(special);
}
#endif

// The first byte from `p` that ends a run of plain string text; `end` when there is none.
// Sixteen bytes at a time (SSE2 is part of x86-64).
inline const char* find_string_special(const char* p, const char* end) {
#if defined(__SSE2__)
    while (end - p >= 16) {
        const int mask = special_mask(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
        if (mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
        p += 16;
    }
#endif
    while (p < end && *p != '"' && *p != '\\' && static_cast<unsigned char>(*p) >= 0x20) ++p;
    return p;
}

// Copies the plain text at `src` to `dst` up to the first byte that ends it (see
// find_string_special) or `end`, and returns that byte; `dst` advances past the copy. Runs are
// copied sixteen bytes at a time, so up to sixteen bytes past the copy are overwritten.
inline const char* copy_plain_run(const char* src, const char* end, char*& dst) {
#if defined(__SSE2__)
    while (end - src >= 16) {
        const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), bytes);
        if (const int mask = special_mask(bytes); mask != 0) {
            const int run = __builtin_ctz(static_cast<unsigned>(mask));
            dst += run;
            return src + run;
        }
        src += 16;
        dst += 16;
    }
#endif
    const char* special = find_string_special(src, end);
    std::memcpy(dst, src, static_cast<size_t>(special - src));
    dst += special - src;
    return special;
}

inline bool is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

inline void skip_space(const char*& at, const char* end) {
    while (at < end && is_space(*at)) ++at;
}

// The escapes a writer prints as they are: a string holding only these is copied byte for byte.
// `\/` (printed as `/`) and `\u` (printed decoded; it also hides NULs and surrogates) are not.
inline bool is_kept_escape(char c) {
    return c == '"' || c == '\\' || c == 'b' || c == 'f' || c == 'n' || c == 'r' || c == 't';
}

// A string at `at` (on its opening quote) without raw control characters; `content` excludes the
// quotes. Unless `any_escape`, with kept escapes only.
inline bool scan_string(const char*& at, const char* end, Span& content, bool any_escape) {
    const char* p = at + 1;
    while ((p = find_string_special(p, end)) < end) {
        const auto c = static_cast<unsigned char>(*p);
        if (c == '"') {
            content = {at + 1, p};
            at = p + 1;
            return true;
        }
        if (c < 0x20) return false;
        if (c == '\\') {
            if (p + 1 == end || !(any_escape || is_kept_escape(p[1]))) return false;
            p += 2;
        } else {
            ++p;
        }
    }
    return false;
}

inline bool scan_plain_string(const char*& at, const char* end, Span& content) {
    return scan_string(at, end, content, false);
}

// `"name":` at `at` (on the quote), leaving `at` on the value.
inline bool scan_name(const char*& at, const char* end, Span& name) {
    if (at == end || *at != '"' || !scan_plain_string(at, end, name)) return false;
    skip_space(at, end);
    if (at == end || *at != ':') return false;
    ++at;
    skip_space(at, end);
    return true;
}

inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

// A JSON number that a RapidJSON writer prints back byte for byte (integers of up to 18 digits as
// they are, a double parsed from at most 15 significant digits as its shortest form); other forms
// (exponents, -0, trailing fraction zeros, long mantissas, more than 18 integer digits, which
// includes every number too large for a double) are declined.
inline bool scan_number(const char*& at, const char* end) {
    const char* p = at;
    if (p < end && *p == '-') ++p;
    const char* int_begin = p;
    while (p < end && is_digit(*p)) ++p;
    const size_t int_digits = static_cast<size_t>(p - int_begin);
    if (int_digits == 0 || int_digits > 18 || (int_digits > 1 && *int_begin == '0')) return false;
    if (p < end && (*p == 'e' || *p == 'E')) return false;
    if (p == end || *p != '.') {
        if (int_begin != at && *int_begin == '0') return false;  // -0 prints as 0
        at = p;
        return true;
    }
    const char* frac_begin = ++p;
    while (p < end && is_digit(*p)) ++p;
    const size_t frac_digits = static_cast<size_t>(p - frac_begin);
    if (frac_digits == 0 || (p < end && (*p == 'e' || *p == 'E'))) return false;
    const bool just_zero = frac_digits == 1 && *frac_begin == '0';  // 5.0 prints as 5.0
    if (!just_zero) {
        if (p[-1] == '0') return false;
        size_t significant = int_digits + frac_digits;
        if (*int_begin == '0') {  // 0.000123: leading zeros do not count, and six print as 1e-7
            const char* first = frac_begin;
            while (first < p && *first == '0') ++first;
            if (first - frac_begin >= 6) return false;
            significant = static_cast<size_t>(p - first);
        }
        if (significant > 15) return false;
    }
    at = p;
    return true;
}

inline bool scan_literal(const char*& at, const char* end, std::string_view word) {
    if (static_cast<size_t>(end - at) < word.size() || std::memcmp(at, word.data(), word.size()) != 0) return false;
    at += word.size();
    return true;
}

// Any JSON value at `at` (not on whitespace), nested no deeper than `max_depth` counting the
// containers around it (`depth`).
bool scan_value(const char*& at, const char* end, unsigned depth, unsigned max_depth);

// An object or an array at `at` (on its opening bracket), up to its closing one.
inline bool scan_container(const char*& at, const char* end, unsigned depth, unsigned max_depth) {
    const bool object = *at == '{';
    const char close = object ? '}' : ']';
    if (depth + 1 > max_depth) return false;
    ++at;
    skip_space(at, end);
    if (at < end && *at == close) {
        ++at;
        return true;
    }
    while (at < end) {
        if (object) {
            Span name;
            if (!scan_name(at, end, name)) return false;
        }
        if (!scan_value(at, end, depth + 1, max_depth)) return false;
        skip_space(at, end);
        if (at == end) return false;
        if (*at == close) {
            ++at;
            return true;
        }
        if (*at != ',') return false;
        ++at;
        skip_space(at, end);
    }
    return false;
}

inline bool scan_value(const char*& at, const char* end, unsigned depth, unsigned max_depth) {
    if (at == end) return false;
    Span ignored;
    switch (*at) {
        case '"': return scan_plain_string(at, end, ignored);
        case '{':
        case '[': return scan_container(at, end, depth, max_depth);
        case 't': return scan_literal(at, end, "true");
        case 'f': return scan_literal(at, end, "false");
        case 'n': return scan_literal(at, end, "null");
        default: return scan_number(at, end);
    }
}

// Scans `"name": value` at `at` (on the quote), leaving `at` past the value.
inline bool scan_member(const char*& at, const char* end, unsigned depth, unsigned max_depth, Member& m) {
    if (!scan_name(at, end, m.name)) return false;
    m.value.begin = at;
    if (!scan_value(at, end, depth, max_depth)) return false;
    m.value.end = at;
    return true;
}

// After a member: true with `at` on the next member, or false with `closed` set past the `}`.
inline bool next_member(const char*& at, const char* end, bool& closed, bool& ok) {
    skip_space(at, end);
    ok = at < end && (*at == ',' || *at == '}');
    if (!ok) return false;
    closed = *at == '}';
    ++at;
    skip_space(at, end);
    return !closed;
}

namespace detail {

// Decodes string text at `src` into `dst` up to its closing quote, or, when `content`, all of
// [src, end) (the content of a scanned string). `dst` has room for `end - src + 16` bytes: a run
// is copied sixteen bytes at a time, the bytes past the run overwritten after. Returns the end of
// the decoded text, with `src` past the closing quote; null on a control character, a `\u` escape
// or a string left open.
template <bool content>
char* decode_string(const char*& src, const char* end, char* dst) {
    for (;;) {
        const char* special = copy_plain_run(src, end, dst);
        if (special == end) return content ? dst : nullptr;
        if (!content && *special == '"') {
            src = special + 1;
            return dst;
        }
        if (*special != '\\' || special + 1 == end) return nullptr;
        switch (special[1]) {
            case '"':
            case '\\':
            case '/': *dst++ = special[1]; break;
            case 'b': *dst++ = '\b'; break;
            case 'f': *dst++ = '\f'; break;
            case 'n': *dst++ = '\n'; break;
            case 'r': *dst++ = '\r'; break;
            case 't': *dst++ = '\t'; break;
            default: return nullptr;
        }
        src = special + 2;
    }
}

}  // namespace detail

// The text of a scanned string's content with its escapes decoded, into `out`; false, with `out`
// unspecified, on a `\u` escape (it can spell NULs and lone surrogates, which a validating parser
// repairs) or on anything scan_string would not accept with `any_escape`.
inline bool unescape(Span content, std::string& out) {
    const char* src = content.begin;
    out.resize(static_cast<size_t>(content.end - src) + 16);  // decoding only shortens
    char* const stop = detail::decode_string<true>(src, content.end, out.data());
    if (stop == nullptr) return false;
    out.resize(static_cast<size_t>(stop - out.data()));
    return true;
}

// The string at `at` (on its opening quote) decoded into `out`, leaving `at` past it, in one pass;
// refused as scan_string with any escape and unescape() refuse. `scratch` is memory kept across
// calls: the decoded text is written there first, since its length is known only at the end.
inline bool read_string(const char*& at, const char* end, std::string& out, std::string& scratch) {
    const char* src = at + 1;
    const size_t room = static_cast<size_t>(end - src) + 16;
    if (scratch.size() < room) scratch.resize(room);
    char* const stop = detail::decode_string<false>(src, end, scratch.data());
    if (stop == nullptr) return false;
    out.assign(scratch.data(), static_cast<size_t>(stop - scratch.data()));
    at = src;
    return true;
}

// Appends `text` as a JSON string literal, quotes included, exactly as a RapidJSON writer prints
// it: `"` and `\` escaped, control characters as \b \t \n \f \r or \u00XX (upper-case hex), every
// other byte as it is.
inline void append_string(std::string& out, std::string_view text) {
    static constexpr char hex[] = "0123456789ABCDEF";
    // Sized for every byte escaped in two, plus room for sixteen-byte stores; a control character
    // (six) makes room for the worst case of the rest.
    const size_t start = out.size();
    out.resize(start + 2 * text.size() + 2 + 16);
    char* dst = out.data() + start;
    *dst++ = '"';
    const char* src = text.data();
    const char* const end = src + text.size();
    for (;;) {
        const char* special = copy_plain_run(src, end, dst);
        if (special == end) break;
        const auto c = static_cast<unsigned char>(*special);
        *dst++ = '\\';
        switch (c) {
            case '"':
            case '\\': *dst++ = static_cast<char>(c); break;
            case '\b': *dst++ = 'b'; break;
            case '\f': *dst++ = 'f'; break;
            case '\n': *dst++ = 'n'; break;
            case '\r': *dst++ = 'r'; break;
            case '\t': *dst++ = 't'; break;
            default: {
                const size_t used = static_cast<size_t>(dst - out.data());
                out.resize(used + 6 * static_cast<size_t>(end - special) + 1 + 16);
                dst = out.data() + used;
                *dst++ = 'u';
                *dst++ = '0';
                *dst++ = '0';
                *dst++ = hex[c >> 4];
                *dst++ = hex[c & 0xF];
            }
        }
        src = special + 1;
    }
    *dst++ = '"';
    out.resize(static_cast<size_t>(dst - out.data()));
}

}  // namespace warden::json_scan
