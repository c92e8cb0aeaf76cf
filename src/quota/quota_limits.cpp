// QuotaLimits: the snapshot the quota stage reads, and its file form for `process`.
#include <warden/quota.hpp>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace warden {
namespace {

[[noreturn]] void fail(const std::string& origin, const std::string& what) {
    throw std::runtime_error("quota file " + origin + ": " + what);
}

size_t line_at(std::string_view text, size_t offset) {
    return 1 + static_cast<size_t>(std::count(text.begin(), text.begin() + std::min(offset, text.size()), '\n'));
}

std::optional<QuotaResource> resource_named(std::string_view name) {
    for (size_t r = 0; r < quota_resource_count; ++r) {
        if (to_string(static_cast<QuotaResource>(r)) == name) return static_cast<QuotaResource>(r);
    }
    return std::nullopt;
}

}  // namespace

QuotaLimits::QuotaLimits(const std::array<Members, quota_resource_count>& members) {
    for (size_t r = 0; r < quota_resource_count; ++r) {
        for (const auto& [member, score] : members[r]) members_[r].emplace(TokenDigest::of(member), score);
    }
}

QuotaFlags QuotaLimits::limited(const Team& team, int64_t now_s) const {
    if (empty()) return 0;
    char id[24];
    const std::string_view id_text(id, static_cast<size_t>(std::to_chars(id, id + sizeof id, team.id).ptr - id));
    // Every key the team is known by, hashed once: a limit set on one token covers the others.
    std::array<TokenDigest, 4> keys{TokenDigest::of(id_text)};
    size_t key_count = 1;
    team.for_each_token([&](const TokenDigest& token, Credential) { keys[key_count++] = token; });
    QuotaFlags flags = 0;
    for (size_t r = 0; r < quota_resource_count; ++r) {
        const HashedMembers& members = members_[r];
        for (size_t k = 0; k < key_count && !members.empty(); ++k) {
            const auto it = members.find(keys[k]);
            if (it != members.end() && it->second > now_s) {
                flags |= quota_flag(static_cast<QuotaResource>(r));
                break;
            }
        }
    }
    return flags;
}

std::optional<int64_t> QuotaLimits::score(QuotaResource resource, std::string_view member) const {
    const HashedMembers& members = members_[static_cast<size_t>(resource)];
    const auto it = members.find(TokenDigest::of(member));
    return it == members.end() ? std::nullopt : std::optional<int64_t>(it->second);
}

bool QuotaLimits::empty() const {
    return std::all_of(members_.begin(), members_.end(), [](const HashedMembers& m) { return m.empty(); });
}

QuotaLimits QuotaLimits::parse(std::string_view json, const std::string& origin) {
    rapidjson::Document doc;
    doc.Parse(json.data(), json.size());
    if (doc.HasParseError()) {
        fail(origin, "line " + std::to_string(line_at(json, doc.GetErrorOffset())) + ": " +
                         rapidjson::GetParseError_En(doc.GetParseError()));
    }
    if (!doc.IsObject()) fail(origin, "not a JSON object of resources (\"events\", \"exceptions\")");
    // Read through const values: RapidJSON's mutable member iterators compare ambiguously in C++20.
    const rapidjson::Value& root = doc;
    std::array<HashedMembers, quota_resource_count> members;
    std::array<bool, quota_resource_count> seen{};
    for (const auto& resource : root.GetObject()) {
        const std::string_view name(resource.name.GetString(), resource.name.GetStringLength());
        const std::optional<QuotaResource> known = resource_named(name);
        if (!known) continue;  // a resource warden does not bill (recordings, say)
        const auto r = static_cast<size_t>(*known);
        const std::string where = "resource \"" + std::string(name) + "\"";
        if (seen[r]) fail(origin, where + " is given twice; keep one");
        seen[r] = true;
        if (!resource.value.IsObject()) fail(origin, where + " is not an object of member -> Unix second");
        size_t index = 0;
        for (const auto& member : resource.value.GetObject()) {
            ++index;
            // Members are tokens, secret ones included: a message names them by position only.
            const std::string which = where + ", member #" + std::to_string(index);
            if (!member.value.IsInt64()) fail(origin, which + ": the score is not a whole number of Unix seconds");
            auto [at, fresh] = members[r].emplace(
                TokenDigest::of({member.name.GetString(), member.name.GetStringLength()}), member.value.GetInt64());
            if (!fresh) fail(origin, which + " repeats an earlier member; keep one");
        }
    }
    return QuotaLimits(std::move(members));
}

QuotaLimits QuotaLimits::read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(path.string(), "cannot be read");
    std::ostringstream text;
    text << in.rdbuf();
    return parse(text.str(), path.string());
}

}  // namespace warden
