// json_text: JSON text handled as text. Repairs applied before parsing, shared by every reader
// of client-written JSON (message values, their `data`, kcat -J envelope lines), and string
// literals for the writers that build JSON by hand (the log, the traffic generator).
#pragma once

#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>

namespace warden::json {

// Replaces each `\uD800`–`\uDFFF` escape that is not half of a high-low pair with `\uFFFD`, in
// place (same length): JSON text from JavaScript carries them, RapidJSON refuses a lone high one
// and would decode a lone low one into bytes that are not UTF-8. Escaped backslashes are
// respected. Returns how many were replaced.
size_t repair_lone_surrogates(char* text, size_t size);

// Appends the JSON string literal of `text`, quotes included: `"` and `\` escaped, control
// characters as \u00XX, every other byte as it is (the caller keeps `text` UTF-8).
inline void append_json_string(std::string& out, std::string_view text) {
    out += '"';
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += ch;
        } else if (c < 0x20) {
            char escape[8];
            std::snprintf(escape, sizeof escape, "\\u%04x", c);
            out += escape;
        } else {
            out += ch;
        }
    }
    out += '"';
}

}  // namespace warden::json
