// quota: which teams are over their plan, for the quota stage after team resolution. A billing
// job marks limited teams in sorted sets, one per resource (PostHog's layout: key
// `@posthog/quota-limits/<resource>`, member a team's token, score the Unix time in seconds the
// limit holds until). warden resolves the team first, so a team is limited when any of its
// tokens, or its id, is in the set: which token an event was sent with does not matter.
#pragma once

#include <warden/core.hpp>

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

namespace warden {

// The limits of every resource at one moment; immutable once built, shared between threads.
class QuotaLimits {
public:
    // Members (tokens or team ids, as text) and the Unix second each one's limit holds until.
    using Members = std::unordered_map<std::string, int64_t>;
    // The same keyed by each member's digest: how they are kept, since a member may be a secret.
    using HashedMembers = std::unordered_map<TokenDigest, int64_t, TokenDigestHash>;

    QuotaLimits() = default;
    explicit QuotaLimits(std::array<HashedMembers, quota_resource_count> members) : members_(std::move(members)) {}
    explicit QuotaLimits(const std::array<Members, quota_resource_count>& members);

    // The resources `team` is limited for at `now_s`, as QuotaFlags bits. A limit holds while
    // its score is in the future.
    QuotaFlags limited(const Team& team, int64_t now_s) const;

    // The score of `member` for `resource`, if it is a member.
    std::optional<int64_t> score(QuotaResource resource, std::string_view member) const;
    size_t member_count(QuotaResource resource) const { return members_[static_cast<size_t>(resource)].size(); }
    bool empty() const;

    // Reads a file of limits: a JSON object whose keys are resources ("events", "exceptions"; others
    // are ignored, as warden bills nothing else) and whose values are objects of member → score:
    //   {"events": {"phc_abc": 1798761600, "42": 1798761600}, "exceptions": {}}
    // Throws std::runtime_error naming the file and the line of the first problem.
    static QuotaLimits read_file(const std::filesystem::path& path);
    static QuotaLimits parse(std::string_view json, const std::string& origin);

private:
    std::array<HashedMembers, quota_resource_count> members_;
};

// Where the quota stage gets its limits: a file read once, or a store refreshed in the
// background. current() is cheap and may be called from any thread.
class QuotaSource {
public:
    virtual ~QuotaSource() = default;
    virtual std::shared_ptr<const QuotaLimits> current() const = 0;
};

// Limits that never change (a file's, or none).
class FixedQuotaSource final : public QuotaSource {
public:
    explicit FixedQuotaSource(QuotaLimits limits) : limits_(std::make_shared<const QuotaLimits>(std::move(limits))) {}
    std::shared_ptr<const QuotaLimits> current() const override { return limits_; }

private:
    std::shared_ptr<const QuotaLimits> limits_;
};

}  // namespace warden
