#include "postgres_conninfo.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <memory>
#include <set>

namespace warden::postgres {
namespace {

constexpr std::string_view uri_prefixes[] = {"postgresql://", "postgres://"};

std::string_view after_uri_prefix(std::string_view conninfo) {
    for (std::string_view prefix : uri_prefixes) {
        if (conninfo.substr(0, prefix.size()) == prefix) return conninfo.substr(prefix.size());
    }
    return {};
}

// libpq's own test (recognized_connection_string): anything else is a bare database name.
bool looks_like_conninfo(std::string_view text) {
    return !after_uri_prefix(text).empty() || text.find('=') != std::string_view::npos;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Valid %XX escapes decoded, anything else kept as written.
std::string percent_decoded(std::string_view raw) {
    std::string out;
    for (size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] == '%' && i + 2 < raw.size() && hex_value(raw[i + 1]) >= 0 && hex_value(raw[i + 2]) >= 0) {
            out += static_cast<char>(hex_value(raw[i + 1]) * 16 + hex_value(raw[i + 2]));
            i += 2;
        } else {
            out += raw[i];
        }
    }
    return out;
}

void add_raw_and_decoded(std::vector<std::string>& out, std::string_view raw) {
    if (raw.empty()) return;
    out.emplace_back(raw);
    out.push_back(percent_decoded(raw));
}

// The forms of a `password=` value starting at `value`: in key=value syntax quoted (with
// backslash escapes) or up to white space; in a URI query up to the next '&'.
void add_value_forms(std::vector<std::string>& out, std::string_view value) {
    if (!value.empty() && value.front() == '\'') {
        std::string unescaped;
        size_t i = 1;
        for (; i < value.size() && value[i] != '\''; ++i) {
            if (value[i] == '\\' && i + 1 < value.size()) ++i;
            unescaped += value[i];
        }
        out.emplace_back(value.substr(1, i - 1));
        out.push_back(std::move(unescaped));
        return;
    }
    const size_t space = value.find_first_of(" \t\n\r\f\v");
    add_raw_and_decoded(out, value.substr(0, space));
    add_raw_and_decoded(out, value.substr(0, value.find('&')));
}

struct OptionsDeleter {
    void operator()(PQconninfoOption* options) const { PQconninfoFree(options); }
};
using OptionsPtr = std::unique_ptr<PQconninfoOption, OptionsDeleter>;

// The parsed settings, or libpq's reason (which may quote the password: never shown).
OptionsPtr parse(const std::string& conninfo, std::string* error) {
    char* message = nullptr;
    OptionsPtr options(PQconninfoParse(conninfo.c_str(), &message));
    if (message) {
        if (error) *error = message;
        PQfreemem(message);
    }
    return options;
}

const std::set<std::string, std::less<>>& setting_names() {
    static const std::set<std::string, std::less<>> names = [] {
        std::set<std::string, std::less<>> out;
        if (OptionsPtr defaults{PQconndefaults()}) {
            for (const PQconninfoOption* o = defaults.get(); o->keyword; ++o) out.insert(o->keyword);
        }
        return out;
    }();
    return names;
}

}  // namespace

std::vector<std::string> password_forms(std::string_view conninfo) {
    std::vector<std::string> out;
    if (const std::string_view rest = after_uri_prefix(conninfo); !rest.empty()) {
        // libpq ends the user-info at the first '@'; a password with a raw '@' ends at the last.
        for (const size_t at : {rest.find('@'), rest.rfind('@')}) {
            if (at == std::string_view::npos) continue;
            const std::string_view user_info = rest.substr(0, at);
            if (const size_t colon = user_info.find(':'); colon != std::string_view::npos) {
                add_raw_and_decoded(out, user_info.substr(colon + 1));
            }
        }
    }
    constexpr std::string_view keyword = "password";
    for (size_t at = conninfo.find(keyword); at != std::string_view::npos; at = conninfo.find(keyword, at + 1)) {
        size_t i = at + keyword.size();
        while (i < conninfo.size() && conninfo[i] == ' ') ++i;
        if (i >= conninfo.size() || conninfo[i] != '=') continue;
        ++i;
        while (i < conninfo.size() && conninfo[i] == ' ') ++i;
        add_value_forms(out, conninfo.substr(i));
    }
    if (OptionsPtr options = parse(std::string(conninfo), nullptr)) {
        for (const PQconninfoOption* o = options.get(); o->keyword; ++o) {
            if (std::string_view(o->keyword) == keyword && o->val && *o->val) out.emplace_back(o->val);
        }
    }
    std::erase_if(out, [](const std::string& form) { return form.empty(); });
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

std::optional<std::string> conninfo_problem(const std::string& conninfo, std::string_view setting) {
    if (!looks_like_conninfo(conninfo)) return std::nullopt;
    std::string reason;
    if (parse(conninfo, &reason)) return std::nullopt;
    std::string what;
    if (reason.find("percent") != std::string::npos) {
        what =
            "a '%' must start a two-digit hex escape and %00 is not allowed (write a literal '%' in a password as %25)";
    } else if (reason.find("unterminated quoted string") != std::string::npos) {
        what = "a quoted value has no closing quote (quote with '...', and escape ' and \\ inside with a backslash)";
    } else if (reason.find("missing \"=\"") != std::string::npos) {
        what = "a setting has no '=' (write key=value pairs, and quote a value holding spaces: password='a b')";
    } else if (reason.find("invalid connection option") != std::string::npos) {
        what = "it names a setting libpq does not know";
    } else if (reason.find("URI") != std::string::npos) {
        what =
            "the URI is malformed (postgresql://user:password@host:port/dbname?setting=value, with reserved "
            "characters percent-encoded)";
    } else {
        what = "libpq cannot parse it";
    }
    return std::string(setting) + " is not a valid connection string or URI: " + what +
           ". The value is not shown, since it may hold a password";
}

std::string hide_quoted_values(std::string_view text) {
    std::string out;
    size_t i = 0;
    while (i < text.size()) {
        const size_t open = text.find('"', i);
        const size_t close = open == std::string_view::npos ? open : text.find('"', open + 1);
        if (close == std::string_view::npos) {
            out += text.substr(i);
            break;
        }
        const std::string_view inner = text.substr(open + 1, close - open - 1);
        out += text.substr(i, open - i);
        out += '"';
        out += setting_names().contains(inner) ? inner : std::string_view("...");
        out += '"';
        i = close + 1;
    }
    return out;
}

}  // namespace warden::postgres
