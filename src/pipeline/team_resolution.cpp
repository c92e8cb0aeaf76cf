#include <warden/team_resolution.hpp>

namespace warden {

bool TeamResolution::resolve(std::span<const MessageView> batch, EventProcessor& processor, TeamCache& cache) {
    processor.start_batch();
    lookups_.clear();
    tokens_.clear();
    for (const MessageView& message : batch) {
        lookups_.push_back(processor.find_token(message));
        if (lookups_.back().status == TokenStatus::candidate) tokens_.push_back(std::move(lookups_.back().token));
    }
    if (!cache.resolve_batch(tokens_, teams_)) return false;

    resolutions_.assign(batch.size(), Resolution{});
    size_t next_team = 0;
    for (size_t i = 0; i < batch.size(); ++i) {
        const TokenLookup& lookup = lookups_[i];
        Resolution& resolution = resolutions_[i];
        resolution.parsed = lookup.parsed;
        switch (lookup.status) {
            case TokenStatus::missing: resolution.drop = DropCause::no_token; break;
            case TokenStatus::invalid:
                resolution.drop = DropCause::invalid_token;
                if (lookup.personal_key) {
                    resolution.personal_key = true;
                    resolution.token = lookup.token;
                }
                break;
            case TokenStatus::unreadable: break;  // the processor dead-letters it
            case TokenStatus::candidate:
                resolution.token = tokens_[next_team];  // moved there from the lookup
                resolution.team = teams_[next_team++].get();
                if (!resolution.team) {
                    resolution.drop = DropCause::invalid_token;
                    resolution.token_shared = cache.is_shared(resolution.token);
                }
                break;
        }
    }
    return true;
}

}  // namespace warden
