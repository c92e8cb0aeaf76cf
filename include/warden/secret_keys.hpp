// secret_keys: the shape of secret (`phs_…`) and personal (`phx_…`) API keys, shared by the log
// redaction and the output redaction so that both agree on what a key is.
#pragma once

#include <cstddef>
#include <string_view>

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

// The first key at or after `from`: "phs_" or "phx_" followed by at least one key character,
// up to the first character that is not one. A bare prefix is not a key.
constexpr Span find_key(std::string_view text, size_t from = 0) {
    for (size_t at = text.find("ph", from); at != std::string_view::npos; at = text.find("ph", at + 1)) {
        if (at + 4 >= text.size()) break;  // no room for a key character after the prefix
        const bool prefix = (text[at + 2] == 's' || text[at + 2] == 'x') && text[at + 3] == '_';
        if (!prefix || !is_key_char(static_cast<unsigned char>(text[at + 4]))) continue;
        size_t end = at + 5;
        while (end < text.size() && is_key_char(static_cast<unsigned char>(text[end]))) ++end;
        return {at, end - at};
    }
    return {};
}

constexpr bool contains_key(std::string_view text) { return find_key(text).found(); }

}  // namespace warden::secret_keys
