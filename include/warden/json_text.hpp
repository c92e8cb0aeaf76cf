// json_text: repairs applied to JSON text before it is parsed, shared by every reader of
// client-written JSON (message values, their `data`, kcat -J envelope lines).
#pragma once

#include <cstddef>

namespace warden::json {

// Replaces each `\uD800`–`\uDFFF` escape that is not half of a high-low pair with `\uFFFD`, in
// place (same length): JSON text from JavaScript carries them, RapidJSON refuses a lone high one
// and would decode a lone low one into bytes that are not UTF-8. Escaped backslashes are
// respected. Returns how many were replaced.
size_t repair_lone_surrogates(char* text, size_t size);

}  // namespace warden::json
