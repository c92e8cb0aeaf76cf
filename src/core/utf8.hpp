// UTF-8 validation and repair: invalid sequences become U+FFFD.
#pragma once

#include <string>
#include <string_view>

namespace warden::utf8 {

bool is_valid(std::string_view text);

// Replaces each maximal invalid subsequence with U+FFFD (Unicode's recommended practice).
// ASCII bytes are never replaced, so JSON structure around repaired strings is kept.
std::string repaired(std::string_view text);

// Repairs in place; returns true when something was replaced.
bool repair(std::string& text);

}  // namespace warden::utf8
