// Token classification, the first stage: which credential a message was sent with, and whether it
// can be one at all, before any store lookup (SPEC §3.1–3.2).
#pragma once

#include <warden/core.hpp>

#include "json_parse.hpp"

#include <string_view>

namespace warden::token {

inline constexpr size_t max_length = 64;

// 1–64 printable ASCII characters (0x21–0x7E; a space is not a token character) and not a
// personal API key (`phx_`), which is never an ingestion credential.
bool is_acceptable(std::string_view token);

// A present, non-empty token (a `token` header or field): a candidate, or invalid.
TokenLookup classify(std::string_view token);

// The `token` field of a parsed value without a token header: missing (absent, null or empty),
// invalid (not a string, or not acceptable) or a candidate. `outer` is null when the value did
// not parse as a JSON object: unreadable.
TokenLookup classify_value_field(const json::Value* outer);

}  // namespace warden::token
