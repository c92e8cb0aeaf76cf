#include <warden/team_resolution.hpp>

#include <unordered_map>

namespace warden {

TeamResolution::~TeamResolution() { forget_tokens(); }

void TeamResolution::forget_tokens() {
    for (std::string& token : tokens_) wipe(token);
    for (TokenLookup& lookup : lookups_) wipe(lookup.token);  // a personal key's
    tokens_.clear();
    lookups_.clear();
    keys_.clear();
}

bool TeamResolution::resolve(std::span<const MessageView> batch, EventProcessor& processor, TeamCache& cache) {
    processor.start_batch();
    forget_tokens();  // the last batch's tokens are not kept past it
    for (const MessageView& message : batch) {
        lookups_.push_back(processor.find_token(message));
        if (lookups_.back().status == TokenStatus::candidate) tokens_.push_back(std::move(lookups_.back().token));
    }
    // A batch holds few distinct tokens: each is hashed once.
    std::unordered_map<std::string_view, size_t> first_key;
    for (const std::string& token : tokens_) {
        auto [it, fresh] = first_key.emplace(token, keys_.size());
        keys_.push_back(fresh ? TokenKey(token) : TokenKey(token, keys_[it->second].digest));
    }
    if (!cache.resolve_batch(keys_, resolved_)) return false;

    resolutions_.assign(batch.size(), Resolution{});
    project_keys_used_.clear();
    size_t next_token = 0;
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
            case TokenStatus::candidate: {
                const ResolvedToken& resolved = resolved_[next_token];
                if (is_project_key(resolved.credential) && first_key.at(tokens_[next_token]) == next_token)
                    project_keys_used_.push_back(keys_[next_token].digest);
                resolution.token = tokens_[next_token++];  // moved there from the lookup
                resolution.team = resolved.team.get();
                resolution.credential = resolved.credential;
                if (!resolution.team) {
                    resolution.drop = DropCause::invalid_token;
                    resolution.token_shared = resolved.shared;
                } else if (resolved.credential == Credential::project_key_without_scope) {
                    resolution.drop = DropCause::insufficient_scope;  // the key is known: its team is named
                }
                break;
            }
        }
    }
    return true;
}

}  // namespace warden
