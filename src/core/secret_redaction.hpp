// Keeps secrets out of every output value, key and header (SPEC §5): the resolving team's secret
// and backup secret whatever they look like, and any text shaped like a secret or personal API
// key (warden/secret_keys.hpp), whichever team it belongs to or whether any team owns it.
#pragma once

#include <warden/core.hpp>

#include "json_parse.hpp"

#include <warden/redaction.hpp>

#include <array>
#include <string>
#include <string_view>

namespace warden::secrets {

inline constexpr std::string_view marker = redaction::marker;

// True when `text` contains a secret: the team's, verbatim, or any key-shaped one.
bool appears_in_text(std::string_view text, const Team& team);

// True when rendered JSON contains a secret in the form the writer prints strings.
bool appears_in_json(std::string_view json, const Team& team);

// A team's secrets prepared for screening many short texts (header names and values). passes()
// is true only for ASCII text holding no key prefix and none of the team's secrets, which then
// needs neither UTF-8 repair nor redaction; false means "look closer", not "found one".
class TextScreen {
public:
    explicit TextScreen(const Team& team);
    bool passes(std::string_view text) const;

private:
    // Key-shaped secrets are caught by their prefix; only other shapes are searched for.
    std::array<const SecretToken*, 2> unshaped_{};
    size_t unshaped_count_ = 0;
};

// Replaces every secret in `text` with `marker`; returns true if any.
bool redact_text(std::string& text, const Team& team);

// Redacts the secrets in every string and member name of `value` (depth-bounded by parsing).
void redact_tree(json::Value& value, const Team& team, json::Allocator& allocator);

}  // namespace warden::secrets
