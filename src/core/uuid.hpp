// UUID checks and the deterministic derivation of child event ids.
#pragma once

#include <string>
#include <string_view>

namespace warden::uuid {

// 8-4-4-4-12 hexadecimal digits, either case.
bool is_valid(std::string_view text);

// A name-based (version 5, SHA-1) UUID of `name` in warden's namespace: the same input gives
// the same id on every replay, so downstream deduplication by uuid works.
std::string derive(std::string_view name);

}  // namespace warden::uuid
