// Names warden gives a meaning to, and the names a reader could mistake for them: a name that
// equals a reserved one up to a NUL reads as that name to any reader that stops at NUL (C strings,
// many JSON and Kafka client libraries), so it is treated like the reserved name or dropped.
#pragma once

#include <string_view>

namespace warden::names {

// `name` is `reserved`, or `reserved` followed by a NUL and anything.
constexpr bool reads_as(std::string_view name, std::string_view reserved) {
    return name.starts_with(reserved) && (name.size() == reserved.size() || name[reserved.size()] == '\0');
}

// `name` reads as `reserved` without being it: a disguise, never copied to an output.
constexpr bool is_alias(std::string_view name, std::string_view reserved) {
    return name.size() > reserved.size() && reads_as(name, reserved);
}

// `$verified`, or a name that reads as it.
constexpr bool is_verified(std::string_view name) { return reads_as(name, "$verified"); }

// Top-level fields the renderer writes itself or never writes, and their disguises; also the
// disguises of the top-level fields it does copy (`data`, `$set`, `$set_once`).
bool is_reserved_top_level(std::string_view name);

// A disguise of a properties key with rules of its own ($set, $set_once, $unset, $ip, $sent_at,
// $verified, $heatmap_data).
bool is_disguised_special_property(std::string_view name);

// Input headers never copied to an output: `token`, `team_id`, `verified` and `replayed` in any
// case, and their disguises; warden writes the last three itself. With `heatmap`, also `event`
// and `uuid`, which the split-off heatmap event rewrites.
bool is_reserved_header(std::string_view name, bool heatmap);

}  // namespace warden::names
