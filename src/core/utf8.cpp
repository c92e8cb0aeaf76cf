#include "utf8.hpp"

#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace warden::utf8 {
namespace {

constexpr std::string_view replacement = "\xEF\xBF\xBD";

// Length of the valid sequence starting at `p`, or 0 with `*bad` set to the length of the
// maximal invalid subpart to replace.
size_t valid_sequence_length(const unsigned char* p, const unsigned char* end, size_t* bad) {
    unsigned char c = p[0];
    size_t need = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;  // no UTF-16 surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else {
        *bad = 1;
        return 0;
    }
    size_t i = 1;
    for (; i <= need; ++i) {
        if (p + i >= end) break;
        unsigned char b = p[i];
        unsigned char l = i == 1 ? lo : 0x80, h = i == 1 ? hi : 0xBF;
        if (b < l || b > h) break;
    }
    if (i == need + 1) return i;
    *bad = i;
    return 0;
}

bool ascii_word(const unsigned char* p) {
    uint64_t w = 0;
    std::memcpy(&w, p, 8);
    return (w & 0x8080808080808080ULL) == 0;
}

}  // namespace

bool is_valid(std::string_view text) {
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    const auto* end = p + text.size();
    while (p < end) {
#if defined(__SSE2__)
        if (end - p >= 16 && _mm_movemask_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))) == 0) {
            p += 16;  // sixteen ASCII bytes
            continue;
        }
#endif
        if (end - p >= 8 && ascii_word(p)) {
            p += 8;
            continue;
        }
        size_t bad = 0;
        size_t n = valid_sequence_length(p, end, &bad);
        if (n == 0) return false;
        p += n;
    }
    return true;
}

std::string repaired(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 8);
    const auto* begin = reinterpret_cast<const unsigned char*>(text.data());
    const auto* p = begin;
    const auto* end = p + text.size();
    while (p < end) {
        size_t bad = 0;
        size_t n = valid_sequence_length(p, end, &bad);
        if (n == 0) {
            out.append(replacement);
            p += bad;
        } else {
            out.append(reinterpret_cast<const char*>(p), n);
            p += n;
        }
    }
    return out;
}

bool repair(std::string& text) {
    if (is_valid(text)) return false;
    text = repaired(text);
    return true;
}

}  // namespace warden::utf8
