// RapidJSON types on a reusable arena, and a depth-limited in-place parser.
#pragma once

#include <warden/json_text.hpp>

#include <rapidjson/document.h>

#include <cstddef>

namespace warden::json {

using Allocator = rapidjson::MemoryPoolAllocator<>;
// The parse stack comes from the arena too, so parsing a message does not touch the heap.
using Document = rapidjson::GenericDocument<rapidjson::UTF8<>, Allocator, Allocator>;
using Value = rapidjson::GenericValue<rapidjson::UTF8<>, Allocator>;

// Parses `text[0, size)` in place (text[size] must be NUL; strings are decoded into the
// buffer, which must outlive `doc`). Fails on any syntax error, on trailing bytes, on a number too
// large for a double (no JSON text can hold the infinity it would be), and when arrays/objects nest
// deeper than `max_depth` — the depth bound keeps hostile input from exhausting the stack here or
// in later recursive walks. Numbers are read exactly (an integer that fits 64 bits as itself, any
// other as the nearest double), so a writer prints each back as the same number. Lone UTF-16
// surrogate escapes are repaired first (see repair_lone_surrogates).
bool parse_in_place(char* text, size_t size, Document& doc, unsigned max_depth);

// Last member named `name` (later duplicates win, as in most JSON readers), or nullptr.
const Value* find_last(const Value& object, std::string_view name);

inline std::string_view view(const Value& string) { return {string.GetString(), string.GetStringLength()}; }

}  // namespace warden::json
