// FileTeamStore: teams from a JSON array (SPEC §1), for `process`, tests and the demo.
#include <warden/teams.hpp>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>
#include <stdexcept>

namespace warden {
namespace {

[[noreturn]] void fail(const std::string& origin, const std::string& what) {
    throw std::runtime_error("teams file " + origin + ": " + what);
}

// Wipes a text that held secrets when it goes out of scope, however the scope ends.
struct WipedOnExit {
    std::string& text;
    explicit WipedOnExit(std::string& held) : text(held) {}
    WipedOnExit(const WipedOnExit&) = delete;
    WipedOnExit& operator=(const WipedOnExit&) = delete;
    ~WipedOnExit() { wipe(text); }
};

// A key as it may be shown: printable ASCII, cut at 64 characters.
std::string printable(std::string_view key) {
    std::string out;
    for (const char c : key.substr(0, 64)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
    return key.size() > 64 ? out + "..." : out;
}

// A team's project secret API keys, as the key table holds them: the "sha256$" form of the hash
// alone is accepted (another algorithm's prefix is refused, never guessed at).
std::vector<ProjectKey> parse_project_keys(const rapidjson::Value& keys, const std::string& where,
                                           const std::string& origin, std::string_view ingestion_scope) {
    if (!keys.IsArray()) fail(origin, where + ": \"project_secret_api_keys\" must be an array of key objects");
    std::vector<ProjectKey> out;
    for (rapidjson::SizeType i = 0; i < keys.Size(); ++i) {
        const std::string which = where + ", project key #" + std::to_string(i);
        const rapidjson::Value& key = keys[i];
        const auto secure = key.IsObject() ? key.FindMember("secure_value") : rapidjson::Value::ConstMemberIterator();
        if (!key.IsObject() || secure == key.MemberEnd() || !secure->value.IsString()) {
            fail(origin, which + ": \"secure_value\" must be a string");
        }
        const std::string_view value(secure->value.GetString(), secure->value.GetStringLength());
        std::optional<TokenDigest> digest;
        if (value.starts_with("sha256$")) digest = TokenDigest::from_hex(value.substr(7));
        if (!digest) fail(origin, which + ": \"secure_value\" must read sha256$ and 64 hex digits");
        ProjectKey parsed{*digest};
        if (const auto scopes = key.FindMember("scopes"); scopes != key.MemberEnd() && !scopes->value.IsNull()) {
            if (!scopes->value.IsArray()) fail(origin, which + ": \"scopes\" must be an array of strings");
            for (const auto& scope : scopes->value.GetArray()) {
                if (!scope.IsString()) fail(origin, which + ": \"scopes\" must be an array of strings");
                parsed.ingestion_scope =
                    parsed.ingestion_scope ||
                    std::string_view(scope.GetString(), scope.GetStringLength()) == ingestion_scope;
            }
        }
        out.push_back(parsed);
    }
    return out;
}

Team parse_team(const rapidjson::Value& v, size_t index, const std::string& origin, std::string_view ingestion_scope) {
    const std::string where = "team #" + std::to_string(index);
    if (!v.IsObject()) fail(origin, where + " is not an object");
    // JSON readers disagree on which of two values of a key counts; a teams file says one thing.
    std::set<std::string_view> keys;
    for (const auto& m : v.GetObject()) {
        const std::string_view key(m.name.GetString(), m.name.GetStringLength());
        if (!keys.insert(key).second) fail(origin, where + " has the key \"" + printable(key) + "\" twice; keep one");
    }
    auto member = [&](const char* name) -> const rapidjson::Value* {
        auto it = v.FindMember(name);
        return it == v.MemberEnd() ? nullptr : &it->value;
    };
    auto required_int = [&](const char* name) {
        const rapidjson::Value* m = member(name);
        if (!m || !m->IsInt64()) fail(origin, where + ": \"" + name + "\" must be an integer");
        return m->GetInt64();
    };
    auto optional_view = [&](const char* name) -> std::optional<std::string_view> {
        const rapidjson::Value* m = member(name);
        if (!m || m->IsNull()) return std::nullopt;
        if (!m->IsString()) fail(origin, where + ": \"" + name + "\" must be a string or null");
        return std::string_view(m->GetString(), m->GetStringLength());
    };
    auto optional_string = [&](const char* name) -> std::optional<std::string> {
        const std::optional<std::string_view> text = optional_view(name);
        return text ? std::optional<std::string>(*text) : std::nullopt;
    };
    // Hashed from the document's own bytes, which the caller wipes: no copy of a secret is left.
    auto optional_secret = [&](const char* name) -> std::optional<SecretToken> {
        const std::optional<std::string_view> text = optional_view(name);
        return text ? std::optional<SecretToken>(*text) : std::nullopt;
    };
    Team t;
    t.id = required_int("id");
    t.project_id = member("project_id") ? required_int("project_id") : t.id;
    t.name = optional_string("name").value_or("");
    std::optional<std::string> api_token = optional_string("api_token");
    if (!api_token || api_token->empty()) fail(origin, where + ": \"api_token\" is required");
    t.api_token = *api_token;
    t.secret_api_token = optional_secret("secret_api_token");
    t.secret_api_token_backup = optional_secret("secret_api_token_backup");
    if (const rapidjson::Value* m = member("anonymize_ips"); m && !m->IsNull()) {
        if (!m->IsBool()) fail(origin, where + ": \"anonymize_ips\" must be a boolean");
        t.anonymize_ips = m->GetBool();
    }
    if (const rapidjson::Value* m = member("heatmaps_opt_in"); m && !m->IsNull()) {
        if (!m->IsBool()) fail(origin, where + ": \"heatmaps_opt_in\" must be a boolean or null");
        t.heatmaps_opt_in = m->GetBool();
    }
    if (const rapidjson::Value* m = member("project_secret_api_keys"); m && !m->IsNull()) {
        t.project_keys = parse_project_keys(*m, where, origin, ingestion_scope);
    }
    return t;
}

}  // namespace

std::unique_ptr<FileTeamStore> FileTeamStore::load(const std::string& path, std::string_view ingestion_scope) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) fail(path, "is a directory; --teams takes a JSON file of teams");
    // Read without a stream's buffer, into one string that is wiped once parsed: the text holds
    // every team's secrets.
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail(path, "cannot be opened (check the path given with --teams)");
    std::string text;
    WipedOnExit wiped{text};
    struct stat info {};
    if (::fstat(fd, &info) == 0 && info.st_size > 0) text.reserve(static_cast<size_t>(info.st_size) + 1);
    char chunk[4096];
    for (;;) {
        const ssize_t got = ::read(fd, chunk, sizeof chunk);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
            const bool failed = got < 0;
            wipe(chunk, sizeof chunk);
            ::close(fd);
            if (failed) fail(path, std::string("cannot be read: ") + std::strerror(errno));
            break;
        }
        text.append(chunk, static_cast<size_t>(got));
    }
    return from_json(text, path, ingestion_scope);
}

std::unique_ptr<FileTeamStore> FileTeamStore::from_json(std::string_view json, const std::string& origin,
                                                        std::string_view ingestion_scope) {
    std::unique_ptr<FileTeamStore> store = parse(json, origin, ingestion_scope);
    wipe_thread_traces();
    return store;
}

std::unique_ptr<FileTeamStore> FileTeamStore::parse(std::string_view json, const std::string& origin,
                                                    std::string_view ingestion_scope) {
    // Parsed in place in a copy that is wiped afterwards, so that no string of the document
    // (secrets included) outlives the parse.
    if (json.find('\0') != std::string_view::npos) fail(origin, "holds a NUL byte; is it a JSON text file?");
    std::string text(json);
    WipedOnExit wiped{text};
    rapidjson::Document doc;
    doc.ParseInsitu(text.data());
    if (doc.HasParseError()) {
        fail(origin, std::string("is not valid JSON: ") + rapidjson::GetParseError_En(doc.GetParseError()) +
                         " at byte " + std::to_string(doc.GetErrorOffset()));
    }
    if (!doc.IsArray()) fail(origin, "must hold a JSON array of team objects");
    auto store = std::make_unique<FileTeamStore>();
    for (rapidjson::SizeType i = 0; i < doc.Size(); ++i) {
        store->teams_.push_back(parse_team(doc[i], i, origin, ingestion_scope));
    }
    for (size_t i = 0; i < store->teams_.size(); ++i) {
        const Team& t = store->teams_[i];
        if (auto [it, fresh] = store->by_id_.emplace(t.id, i); !fresh) {
            fail(origin, "team #" + std::to_string(it->second) + " and team #" + std::to_string(i) +
                             " have the same id " + std::to_string(t.id) + " (each id must appear once)");
        }
        t.for_each_token([&](const TokenDigest& token, Credential) { store->by_token_.emplace(token, i); });
    }
    return store;
}

TeamStore::FetchResult FileTeamStore::fetch(const TeamQuery& query) {
    ++fetches_;
    FetchResult result;
    std::vector<bool> taken(teams_.size(), false);
    auto take = [&](size_t index) {
        if (taken[index]) return;
        taken[index] = true;
        result.teams.push_back(teams_[index]);
    };
    auto take_owners = [&](const TokenDigest& token, Credential = Credential::public_token) {
        auto [first, last] = by_token_.equal_range(token);
        for (auto it = first; it != last; ++it) take(it->second);
    };
    for (const TokenKey& token : query.tokens) take_owners(token.digest);
    for (int64_t id : query.team_ids) {
        if (auto it = by_id_.find(id); it != by_id_.end()) take(it->second);
    }
    // Every other owner of a matched team's tokens: the closure the cache decides ownership from.
    const size_t matched = result.teams.size();
    for (size_t i = 0; i < matched; ++i) {
        const Team match = result.teams[i];  // a copy: take() may grow the vector
        match.for_each_token(take_owners);
    }
    return result;
}

}  // namespace warden
