#include "secret_redaction.hpp"

#include <warden/redaction.hpp>
#include <warden/token_digest.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <string>

namespace warden::secrets {
namespace {

// SecretToken::json_escaped() names the characters a JSON writer may print otherwise than as
// themselves: RapidJSON's writer escapes quotes and backslashes as \" and \\, and control
// characters as \b \f \n \r \t or \u00XX; other writers (and clients, whose text the single pass
// copies) may use \u00xx for any of them. Both of warden's writers print every other byte as it
// is: `/` too (RapidJSON's writer does not escape it; the single pass declines values holding
// `\/`), and non-ASCII text as well.

// The code unit of the four hex digits at `at`, or -1.
int hex_unit(std::string_view text, size_t at) {
    if (at + 4 > text.size()) return -1;
    int unit = 0;
    for (size_t i = at; i < at + 4; ++i) {
        const int digit = hex_digit(text[i]);
        if (digit < 0) return -1;
        unit = unit * 16 + digit;
    }
    return unit;
}

void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

// Decodes the string whose content starts at json[at] into `out`, up to its closing quote; returns
// the position after that quote. Every escape JSON has is decoded (a surrogate pair to its
// character, a lone surrogate to U+FFFD); anything else is kept as it is.
size_t decode_string(std::string_view json, size_t at, std::string& out) {
    out.clear();
    while (at < json.size()) {
        const size_t special = json.find_first_of("\"\\", at);
        if (special == std::string_view::npos) {
            out.append(json.substr(at));
            return json.size();
        }
        out.append(json.substr(at, special - at));
        if (json[special] == '"') return special + 1;
        if (special + 1 == json.size()) return json.size();
        const char e = json[special + 1];
        at = special + 2;
        switch (e) {
            case 'b': out.push_back('\b'); break;
            case 'f': out.push_back('\f'); break;
            case 'n': out.push_back('\n'); break;
            case 'r': out.push_back('\r'); break;
            case 't': out.push_back('\t'); break;
            case 'u': {
                const int unit = hex_unit(json, at);
                if (unit < 0) {
                    out.append("\\u");
                    break;
                }
                at += 4;
                uint32_t cp = static_cast<uint32_t>(unit);
                if (cp >= 0xD800 && cp <= 0xDBFF && json.substr(at, 2) == "\\u") {
                    const int low = hex_unit(json, at + 2);
                    if (low >= 0xDC00 && low <= 0xDFFF) {
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (static_cast<uint32_t>(low) - 0xDC00);
                        at += 6;
                    }
                }
                if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;
                append_utf8(out, cp);
                break;
            }
            default: out.push_back(e);  // `"`, `\\`, `/`, or not an escape: as it is
        }
    }
    return json.size();
}

// Whether a string (a member name or a value) of JSON text holds `secret` once decoded, however the
// text spells its characters. Run only for a secret holding escaped characters (rare): it decodes
// every string of the text.
bool spelt_in_json(std::string_view json, const SecretToken& secret) {
    std::string decoded;
    for (size_t at = json.find('"'); at != std::string_view::npos; at = json.find('"', at)) {
        at = decode_string(json, at + 1, decoded);
        if (secret.find_in(decoded) != std::string::npos) return true;
    }
    return false;
}

// The team's secrets that are not key-shaped (at most the secret and its backup): a key-shaped one
// is found by its shape, like every other key.
class UnshapedSecrets {
public:
    explicit UnshapedSecrets(const Team& team) {
        add(team.secret_api_token);
        add(team.secret_api_token_backup);
    }
    std::span<const SecretToken* const> secrets() const { return {secrets_.data(), count_}; }

private:
    void add(const std::optional<SecretToken>& secret) {
        if (secret && !secret->empty() && !secret->key_shaped()) secrets_[count_++] = &*secret;
    }
    std::array<const SecretToken*, 2> secrets_{};
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
    return redaction::contains(text, {}, UnshapedSecrets(team).secrets());
}

bool appears_in_json(std::string_view json, const Team& team) {
    // A key-shaped secret shows in the text by its key, whatever follows it (keys hold no character a
    // writer escapes), and a secret holding no escaped character as it is. One holding an escaped
    // character is looked for in the decoded strings instead, since the text may spell that
    // character in more than one way (\n, \u000A, \u000a).
    if (secret_keys::contains_key(json)) return true;
    const UnshapedSecrets unshaped(team);  // named: a temporary would die before the loop body
    for (const SecretToken* secret : unshaped.secrets()) {
        if (secret->json_escaped() ? spelt_in_json(json, *secret) : secret->find_in(json) != std::string_view::npos) {
            return true;
        }
    }
    return false;
}

TextScreen::TextScreen(const Team& team) {
    const UnshapedSecrets secrets(team);  // named: a temporary would die before the loop body
    for (const SecretToken* secret : secrets.secrets()) unshaped_[unshaped_count_++] = secret;
}

bool TextScreen::passes(std::string_view text) const {
    // Eight bytes at a time: any with the high bit set fails at once, and only a word holding a
    // 'p' is looked at closely for a key prefix.
    constexpr uint64_t ones = 0x0101010101010101, highs = 0x8080808080808080, ps = ones * 'p';
    const auto has_prefix_in = [&](size_t from, size_t to) {
        for (size_t i = from; i < to; ++i) {
            if (secret_keys::is_key_prefix_at(text, i)) return true;
        }
        return false;
    };
    size_t at = 0;
    for (; at + 8 <= text.size(); at += 8) {
        uint64_t word;
        std::memcpy(&word, text.data() + at, sizeof word);
        if (word & highs) return false;
        const uint64_t p_bytes_zero = word ^ ps;  // a zero byte where the text has a 'p'
        if (((p_bytes_zero - ones) & ~p_bytes_zero & highs) && has_prefix_in(at, at + 8)) return false;
    }
    for (size_t i = at; i < text.size(); ++i) {
        if (static_cast<unsigned char>(text[i]) & 0x80) return false;
    }
    if (has_prefix_in(at, text.size())) return false;
    for (size_t i = 0; i < unshaped_count_; ++i) {
        if (unshaped_[i]->find_in(text) != std::string_view::npos) return false;
    }
    return true;
}

bool redact_text(std::string& text, const Team& team) {
    return redaction::redact(text, {}, redaction::KeyForm::whole, UnshapedSecrets(team).secrets());
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
