// FileTeamStore: teams from a JSON array (SPEC §1), for `process`, tests and the demo.
#include <warden/teams.hpp>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

namespace warden {
namespace {

[[noreturn]] void fail(const std::string& origin, const std::string& what) {
    throw std::runtime_error("teams file " + origin + ": " + what);
}

// A key as it may be shown: printable ASCII, cut at 64 characters.
std::string printable(std::string_view key) {
    std::string out;
    for (const char c : key.substr(0, 64)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
    return key.size() > 64 ? out + "..." : out;
}

Team parse_team(const rapidjson::Value& v, size_t index, const std::string& origin) {
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
    auto optional_string = [&](const char* name) -> std::optional<std::string> {
        const rapidjson::Value* m = member(name);
        if (!m || m->IsNull()) return std::nullopt;
        if (!m->IsString()) fail(origin, where + ": \"" + name + "\" must be a string or null");
        return std::string(m->GetString(), m->GetStringLength());
    };
    Team t;
    t.id = required_int("id");
    t.project_id = member("project_id") ? required_int("project_id") : t.id;
    t.name = optional_string("name").value_or("");
    std::optional<std::string> api_token = optional_string("api_token");
    if (!api_token || api_token->empty()) fail(origin, where + ": \"api_token\" is required");
    t.api_token = *api_token;
    t.secret_api_token = optional_string("secret_api_token");
    t.secret_api_token_backup = optional_string("secret_api_token_backup");
    if (const rapidjson::Value* m = member("anonymize_ips"); m && !m->IsNull()) {
        if (!m->IsBool()) fail(origin, where + ": \"anonymize_ips\" must be a boolean");
        t.anonymize_ips = m->GetBool();
    }
    if (const rapidjson::Value* m = member("heatmaps_opt_in"); m && !m->IsNull()) {
        if (!m->IsBool()) fail(origin, where + ": \"heatmaps_opt_in\" must be a boolean or null");
        t.heatmaps_opt_in = m->GetBool();
    }
    return t;
}

}  // namespace

std::unique_ptr<FileTeamStore> FileTeamStore::load(const std::string& path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) fail(path, "is a directory; --teams takes a JSON file of teams");
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(path, "cannot be opened (check the path given with --teams)");
    std::stringstream text;
    text << in.rdbuf();
    return from_json(text.str(), path);
}

std::unique_ptr<FileTeamStore> FileTeamStore::from_json(std::string_view json, const std::string& origin) {
    rapidjson::Document doc;
    doc.Parse(json.data(), json.size());
    if (doc.HasParseError()) {
        fail(origin, std::string("is not valid JSON: ") + rapidjson::GetParseError_En(doc.GetParseError()) +
                         " at byte " + std::to_string(doc.GetErrorOffset()));
    }
    if (!doc.IsArray()) fail(origin, "must hold a JSON array of team objects");
    auto store = std::make_unique<FileTeamStore>();
    for (rapidjson::SizeType i = 0; i < doc.Size(); ++i) {
        store->teams_.push_back(parse_team(doc[i], i, origin));
    }
    for (size_t i = 0; i < store->teams_.size(); ++i) {
        const Team& t = store->teams_[i];
        if (auto [it, fresh] = store->by_id_.emplace(t.id, i); !fresh) {
            fail(origin, "team #" + std::to_string(it->second) + " and team #" + std::to_string(i) +
                             " have the same id " + std::to_string(t.id) + " (each id must appear once)");
        }
        t.for_each_token([&](const std::string& token) { store->by_token_.emplace(token, i); });
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
    auto take_owners = [&](const std::string& token) {
        auto [first, last] = by_token_.equal_range(token);
        for (auto it = first; it != last; ++it) take(it->second);
    };
    for (const std::string& token : query.tokens) take_owners(token);
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
