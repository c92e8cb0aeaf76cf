#include "secret_redaction.hpp"

#include <warden/redaction.hpp>

#include <array>
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

// The team's non-empty secrets: at most the secret and its backup.
class TeamSecrets {
public:
    explicit TeamSecrets(const Team& team) {
        add(team.secret_api_token);
        add(team.secret_api_token_backup);
    }
    std::span<const std::string_view> views() const { return {views_.data(), count_}; }

private:
    void add(const std::optional<std::string>& secret) {
        if (secret && !secret->empty()) views_[count_++] = *secret;
    }
    std::array<std::string_view, 2> views_{};
    size_t count_ = 0;
};

void redact_string(json::Value& v, const Team& team, json::Allocator& allocator) {
    std::string_view text = json::view(v);
    if (!appears_in_text(text, team)) return;
    std::string redacted(text);
    redact_text(redacted, team);
    v.SetString(redacted.data(), static_cast<rapidjson::SizeType>(redacted.size()), allocator);
}

}  // namespace

bool appears_in_text(std::string_view text, const Team& team) {
    return redaction::contains(text, TeamSecrets(team).views());
}

bool appears_in_json(std::string_view json, const Team& team) {
    // The writer escapes only quotes, backslashes and control characters, none of which is a key
    // character, so a key in any string shows in the JSON text as it is; a team secret may not.
    std::array<std::string, 2> escaped;
    std::array<std::string_view, 2> printed;
    size_t count = 0;
    const TeamSecrets secrets(team);  // named: a temporary would die before the loop body
    for (std::string_view secret : secrets.views()) {
        if (needs_escaping(secret)) {
            escaped[count] = json_escaped(secret);
            printed[count] = escaped[count];
        } else {
            printed[count] = secret;
        }
        ++count;
    }
    return redaction::contains(json, {printed.data(), count});
}

bool redact_text(std::string& text, const Team& team) {
    return redaction::redact(text, TeamSecrets(team).views(), redaction::KeyForm::whole);
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
