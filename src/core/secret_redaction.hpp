// Keeps secrets out of every output value, key and header (SPEC §5): the resolving team's secret
// and backup secret whatever they look like, and any text shaped like a secret or personal API
// key (warden/secret_keys.hpp), whichever team it belongs to or whether any team owns it.
#pragma once

#include <warden/core.hpp>

#include "json_parse.hpp"

#include <warden/redaction.hpp>

#include <string>
#include <string_view>

namespace warden::secrets {

inline constexpr std::string_view marker = redaction::marker;

// True when `text` contains a secret: the team's, verbatim, or any key-shaped one.
bool appears_in_text(std::string_view text, const Team& team);

// True when rendered JSON contains a secret in the form the writer prints strings.
bool appears_in_json(std::string_view json, const Team& team);

// Replaces every secret in `text` with `marker`; returns true if any.
bool redact_text(std::string& text, const Team& team);

// Redacts the secrets in every string and member name of `value` (depth-bounded by parsing).
void redact_tree(json::Value& value, const Team& team, json::Allocator& allocator);

}  // namespace warden::secrets
