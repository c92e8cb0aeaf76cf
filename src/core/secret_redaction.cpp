#include "secret_redaction.hpp"

#include <warden/secret_keys.hpp>

#include <cstring>

namespace warden::secrets {
namespace {

// The token as RapidJSON's writer prints it inside a string.
std::string json_escaped(std::string_view token) {
    std::string out;
    for (char c : token) {
        auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(c);
        } else if (u < 0x20) {
            static constexpr char hex[] = "0123456789ABCDEF";
            out += "\\u00";
            out.push_back(hex[u >> 4]);
            out.push_back(hex[u & 0xf]);
        } else {
            out.push_back(c);
        }
    }
    return out;
}

bool needs_escaping(std::string_view token) {
    for (char c : token) {
        if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) return true;
    }
    return false;
}

bool contains(std::string_view haystack, std::string_view needle) {
    return !needle.empty() && haystack.find(needle) != std::string_view::npos;
}

template <typename F>
void for_each_secret(const Team& team, F&& f) {
    if (team.secret_api_token && !team.secret_api_token->empty()) f(*team.secret_api_token);
    if (team.secret_api_token_backup && !team.secret_api_token_backup->empty()) f(*team.secret_api_token_backup);
}

bool replace_all(std::string& text, std::string_view needle) {
    bool any = false;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + marker.size())) {
        text.replace(at, needle.size(), marker);
        any = true;
    }
    return any;
}

void redact_string(json::Value& v, const Team& team, json::Allocator& allocator) {
    std::string_view text = json::view(v);
    if (!appears_in_text(text, team)) return;
    std::string redacted(text);
    redact_text(redacted, team);
    v.SetString(redacted.data(), static_cast<rapidjson::SizeType>(redacted.size()), allocator);
}

}  // namespace

bool appears_in_text(std::string_view text, const Team& team) {
    bool found = secret_keys::contains_key(text);
    for_each_secret(team, [&](const std::string& s) { found = found || contains(text, s); });
    return found;
}

bool appears_in_json(std::string_view json, const Team& team) {
    // The writer escapes only quotes, backslashes and control characters, none of which is a key
    // character, so a key in any string shows in the JSON text as it is.
    bool found = secret_keys::contains_key(json);
    for_each_secret(team, [&](const std::string& s) {
        found = found || contains(json, needs_escaping(s) ? std::string_view(json_escaped(s)) : s);
    });
    return found;
}

bool redact_text(std::string& text, const Team& team) {
    bool any = false;
    for_each_secret(team, [&](const std::string& s) { any = replace_all(text, s) || any; });
    for (secret_keys::Span key = secret_keys::find_key(text); key.found();
         key = secret_keys::find_key(text, key.begin + marker.size())) {
        text.replace(key.begin, key.size, marker);
        any = true;
    }
    return any;
}

void redact_tree(json::Value& value, const Team& team, json::Allocator& allocator) {
    if (value.IsString()) {
        redact_string(value, team, allocator);
    } else if (value.IsArray()) {
        for (auto& e : value.GetArray()) redact_tree(e, team, allocator);
    } else if (value.IsObject()) {
        // Indexed: comparing RapidJSON's mutable member iterators is ambiguous in C++20 (clang warns).
        for (rapidjson::SizeType i = 0; i < value.MemberCount(); ++i) {
            auto m = value.MemberBegin() + i;
            redact_string(m->name, team, allocator);
            redact_tree(m->value, team, allocator);
        }
    }
}

}  // namespace warden::secrets
