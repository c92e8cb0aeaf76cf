// secret_keys: the shape of secret (`phs_…`) and personal (`phx_…`) API keys, shared by the log
// redaction and the output redaction so that both agree on what a key is.
#pragma once

#include <cstddef>
#include <string_view>
#include <type_traits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace warden::secret_keys {

// A character that can be part of an issued key: printable ASCII except the separators of query
// strings, lists and quoting, so the text around a key survives redaction. Base64's `+`, `/` and
// `=` count as key characters: a key written in that alphabet is redacted whole.
constexpr bool is_key_char(unsigned char c) {
    constexpr std::string_view stops = "\"'\\,;&?#()[]{}<>";
    return c > 0x20 && c < 0x7f && stops.find(static_cast<char>(c)) == std::string_view::npos;
}

// A key found in a text: [begin, begin + size).
struct Span {
    size_t begin = std::string_view::npos;
    size_t size = 0;
    constexpr bool found() const { return begin != std::string_view::npos; }
};

// True when a key's prefix ("phs_" or "phx_") starts at `at`.
constexpr bool is_key_prefix_at(std::string_view text, size_t at) {
    return at + 4 <= text.size() && text[at] == 'p' && text[at + 1] == 'h' &&
           (text[at + 2] == 's' || text[at + 2] == 'x') && text[at + 3] == '_';
}

// The first position at or after `from` where a key's prefix ("phs_" or "phx_") starts, or npos.
// Sixteen positions at a time where SSE2 is there (x86-64): every output is searched for keys.
inline size_t find_key_prefix_fast(std::string_view text, size_t from) {
    const char* const data = text.data();
    size_t at = from;
#if defined(__SSE2__)
    // Sixteen positions at a time for "ph", which is rare in most text; each one found is then
    // checked for the rest of a prefix.
    const __m128i p = _mm_set1_epi8('p'), h = _mm_set1_epi8('h');
    auto load = [&](size_t i) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + i)); };
    for (; at + 1 + 16 <= text.size(); at += 16) {
        auto mask = static_cast<unsigned>(
            _mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(load(at), p), _mm_cmpeq_epi8(load(at + 1), h))));
        for (; mask != 0; mask &= mask - 1) {
            const size_t candidate = at + static_cast<size_t>(__builtin_ctz(mask));
            if (is_key_prefix_at(text, candidate)) return candidate;
        }
    }
#endif
    for (; at + 4 <= text.size(); ++at) {
        if (is_key_prefix_at(text, at)) return at;
    }
    return std::string_view::npos;
}

constexpr size_t find_key_prefix(std::string_view text, size_t from) {
    if (!std::is_constant_evaluated()) return find_key_prefix_fast(text, from);
    for (size_t at = from; at + 4 <= text.size(); ++at) {
        if (is_key_prefix_at(text, at)) return at;
    }
    return std::string_view::npos;
}

// The first key at or after `from`: "phs_" or "phx_" followed by at least one key character,
// up to the first character that is not one. A bare prefix is not a key.
constexpr Span find_key(std::string_view text, size_t from = 0) {
    for (size_t at = find_key_prefix(text, from); at != std::string_view::npos; at = find_key_prefix(text, at + 1)) {
        if (at + 4 >= text.size()) break;  // no room for a key character after the prefix
        if (!is_key_char(static_cast<unsigned char>(text[at + 4]))) continue;
        size_t end = at + 5;
        while (end < text.size() && is_key_char(static_cast<unsigned char>(text[end]))) ++end;
        return {at, end - at};
    }
    return {};
}

constexpr bool contains_key(std::string_view text) { return find_key(text).found(); }

}  // namespace warden::secret_keys
