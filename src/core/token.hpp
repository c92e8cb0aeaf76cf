// Token syntax rules applied before any store lookup (SPEC §3.2).
#pragma once

#include <string_view>

namespace warden::token {

inline constexpr size_t max_length = 64;

// 1–64 printable ASCII characters (0x21–0x7E; a space is not a token character) and not a
// personal API key (`phx_`), which is never an ingestion credential.
bool is_acceptable(std::string_view token);

}  // namespace warden::token
