// redaction: replaces secrets in a text in one pass, in time linear in the text whatever the
// number of matches (a hostile message can carry a hundred thousand of them): literal values (the
// credentials warden was given), secrets known by their digest only (a team's secret that is not
// key-shaped, token_digest.hpp) and secret or personal API keys (secret_keys.hpp). Shared by the
// output redaction and the log.
#pragma once

#include <warden/secret_keys.hpp>
#include <warden/token_digest.hpp>

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace warden::redaction {

inline constexpr std::string_view marker = "[redacted]";

// How a key-shaped match is replaced: whole ("[redacted]"), or keeping its prefix
// ("phs_[redacted]") so a reader of a log line still sees which kind of key it was.
enum class KeyForm { whole, keep_prefix };

// The earliest match at or after a position, literal or key. Each pattern's search resumes where
// it last stopped, so walking a text from start to end costs one pass per pattern.
class Matcher {
public:
    struct Match {
        size_t begin = std::string_view::npos;
        size_t size = 0;
        bool key = false;
        bool found() const { return begin != std::string_view::npos; }
    };

    Matcher(std::string_view text, std::span<const std::string_view> literals,
            std::span<const SecretToken* const> secrets = {})
        : text_(text),
          literals_(literals),
          secrets_(secrets),
          next_(literals.size(), unsearched),
          next_secret_(secrets.size(), unsearched) {}

    // The earliest match starting at or after `from`; at one position, the longest.
    Match next(size_t from) {
        Match best;
        auto consider = [&](size_t begin, size_t size, bool key) {
            if (begin < best.begin || (begin == best.begin && size > best.size)) best = {begin, size, key};
        };
        for (size_t i = 0; i < literals_.size(); ++i) {
            if (literals_[i].empty()) continue;
            if (next_[i] == unsearched || (next_[i] != none && next_[i] < from)) {
                const size_t at = text_.find(literals_[i], from);
                next_[i] = at == std::string_view::npos ? none : at;
            }
            if (next_[i] != none) consider(next_[i], literals_[i].size(), false);
        }
        for (size_t i = 0; i < secrets_.size(); ++i) {
            if (next_secret_[i] == unsearched || (next_secret_[i] != none && next_secret_[i] < from)) {
                next_secret_[i] = secrets_[i]->find_in(text_, from);
            }
            if (next_secret_[i] != none) consider(next_secret_[i], secrets_[i]->size(), false);
        }
        if (key_.begin == unsearched || (key_.begin != none && key_.begin < from)) {
            const secret_keys::Span key = secret_keys::find_key(text_, from);
            key_ = key.found() ? key : secret_keys::Span{none, 0};
        }
        if (key_.begin != none) consider(key_.begin, key_.size, true);
        return best;
    }

private:
    static constexpr size_t unsearched = std::string_view::npos - 1;
    static constexpr size_t none = std::string_view::npos;
    std::string_view text_;
    std::span<const std::string_view> literals_;
    std::span<const SecretToken* const> secrets_;
    std::vector<size_t> next_;         // per literal: its next occurrence, `none`, or `unsearched`
    std::vector<size_t> next_secret_;  // the same per secret
    secret_keys::Span key_{unsearched, 0};
};

// True when `text` holds any of the literals, any of the secrets or a key. A literal that is itself
// a key (a prefix and a key character) is found by the key search wherever it occurs, so only
// others are searched.
inline bool contains(std::string_view text, std::span<const std::string_view> literals,
                     std::span<const SecretToken* const> secrets = {}) {
    for (std::string_view literal : literals) {
        const bool key_shaped = secret_keys::find_key(literal.substr(0, 5)).begin == 0;
        if (!literal.empty() && !key_shaped && text.find(literal) != std::string_view::npos) return true;
    }
    for (const SecretToken* secret : secrets) {
        if (secret->find_in(text) != std::string_view::npos) return true;
    }
    return secret_keys::find_key(text).found();
}

// Replaces every literal, secret and key in `text`; returns true when anything was replaced.
inline bool redact(std::string& text, std::span<const std::string_view> literals, KeyForm form,
                   std::span<const SecretToken* const> secrets = {}) {
    Matcher matcher(text, literals, secrets);
    Matcher::Match match = matcher.next(0);
    if (!match.found()) return false;
    std::string out;
    out.reserve(text.size());
    size_t done = 0;
    for (; match.found(); match = matcher.next(done)) {
        out.append(text, done, match.begin - done);
        if (match.key && form == KeyForm::keep_prefix) out.append(text, match.begin, 4);
        out += marker;
        done = match.begin + match.size;
    }
    out.append(text, done);
    text = std::move(out);
    return true;
}

}  // namespace warden::redaction
