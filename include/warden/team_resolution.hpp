// Team resolution, the stage between token classification and the rest of the core: every
// candidate token of a batch resolved through the team cache in one lookup.
#pragma once

#include <warden/core.hpp>
#include <warden/teams.hpp>

#include <memory>
#include <span>
#include <string>
#include <vector>

namespace warden {

class TeamResolution {
public:
    TeamResolution() = default;
    ~TeamResolution();
    TeamResolution(const TeamResolution&) = delete;
    TeamResolution& operator=(const TeamResolution&) = delete;

    // Classifies each message's token (EventProcessor::find_token) and resolves the candidates.
    // False when the store failed (see TeamCache::last_failure): nothing is resolved then.
    bool resolve(std::span<const MessageView> batch, EventProcessor& processor, TeamCache& cache);

    // The resolution of the i-th message of the last resolved batch.
    Resolution operator[](size_t i) const { return resolutions_[i]; }
    // The project secret API keys the last batch presented, each once (with or without the scope).
    std::span<const TokenDigest> project_keys_used() const { return project_keys_used_; }

private:
    // Overwrites the last batch's token texts: a secret sent in a message is not kept past it.
    void forget_tokens();

    std::vector<TokenLookup> lookups_;
    std::vector<std::string> tokens_;  // each candidate message's token, in batch order
    std::vector<TokenKey> keys_;       // the same, with their digests
    std::vector<ResolvedToken> resolved_;
    std::vector<Resolution> resolutions_;
    std::vector<TokenDigest> project_keys_used_;
};

}  // namespace warden
