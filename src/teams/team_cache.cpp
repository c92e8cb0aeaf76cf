#include <warden/log.hpp>
#include <warden/teams.hpp>

#include <thread>
#include <unordered_set>

namespace warden {

using std::chrono::steady_clock;

TeamCache::TeamCache(TeamStore& store, TeamCacheOptions options, Clock clock, Sleep sleep)
    : store_(store),
      options_(options),
      clock_(clock ? std::move(clock) : [] { return steady_clock::now(); }),
      sleep_(sleep ? std::move(sleep) : [](std::chrono::nanoseconds d) { std::this_thread::sleep_for(d); }),
      fetch_limiter_(options.max_store_fetches_per_second, std::max(1.0, options.max_store_fetches_per_second / 10)),
      rng_(options.seed) {}

namespace {

// Another team's secret leaving in an event is recognised by its key shape only: say so for a
// team whose secret has another shape (without printing the secret).
void warn_unshaped_secrets(const Team& team) {
    for (const std::optional<SecretToken>* secret : {&team.secret_api_token, &team.secret_api_token_backup}) {
        if (!*secret || (*secret)->empty() || (*secret)->key_shaped()) continue;
        log::warn("a team's secret is not a phs_ key: it is redacted from its own team's events only; rotate it",
                  {{"team_id", std::to_string(team.id)},
                   {"column", secret == &team.secret_api_token ? "secret_api_token" : "secret_api_token_backup"}});
    }
}

}  // namespace

steady_clock::time_point TeamCache::expiry(steady_clock::time_point now) {
    // Jitter spreads reloads so a fleet started together does not hit the store in step.
    std::uniform_real_distribution<double> spread(1.0 - options_.ttl_jitter, 1.0 + options_.ttl_jitter);
    auto ttl = std::chrono::duration_cast<steady_clock::duration>(options_.ttl * spread(rng_));
    return now + ttl;
}

void TeamCache::erase_token(const TokenDigest& token) {
    auto it = by_token_.find(token);
    if (it == by_token_.end()) return;
    if (!it->second.answer.team) --negative_count_;
    by_token_.erase(it);
}

void TeamCache::evict_team(int64_t team_id) {
    auto it = by_id_.find(team_id);
    if (it == by_id_.end()) return;
    std::shared_ptr<const Team> team = it->second.answer.team;
    by_id_.erase(it);
    team->for_each_token([&](const TokenDigest& token, Credential) {
        auto entry = by_token_.find(token);
        if (entry != by_token_.end() && entry->second.answer.team == team) by_token_.erase(entry);
    });
    ++stats_.evictions;
}

void TeamCache::clear() {
    changed_teams_.clear();  // nothing cached is left for their tokens to contradict
    stats_.evictions += by_id_.size() + negative_count_;
    by_token_.clear();
    by_id_.clear();
    team_order_.clear();
    negative_order_.clear();
    negative_count_ = 0;
}

void TeamCache::apply_store_changes() {
    TeamStore::Invalidations changes = store_.poll_invalidations();
    if (changes.everything || changed_teams_.size() + changes.team_ids.size() > max_pending_reloads) {
        clear();
        return;
    }
    if (changes.team_ids.empty()) return;
    for (int64_t id : changes.team_ids) {
        evict_team(id);                // its old tokens
        changed_teams_.push_back(id);  // its new ones are learnt before the next lookup
    }
    // A changed team may have given up a token cached as shared (now its other owner's alone), or
    // taken one cached as unknown; its old tokens are not known when it was not cached itself.
    clear_negative();
}

void TeamCache::clear_negative() {
    std::erase_if(by_token_, [](const auto& entry) { return !entry.second.answer.team; });
    stats_.evictions += negative_count_;
    negative_count_ = 0;
    negative_order_.clear();
}

void TeamCache::insert_team(std::shared_ptr<const Team> team, steady_clock::time_point now) {
    evict_team(team->id);  // a reloaded row replaces every key of its previous version
    const auto expires = expiry(now);
    team->for_each_token([&](const TokenDigest& token, Credential credential) {
        erase_token(token);
        by_token_[token] = Entry{{team, credential}, expires};
    });
    by_id_[team->id] = Entry{{team}, expires};
    team_order_.emplace_back(team->id, expires);
    while (by_id_.size() > options_.max_teams && !team_order_.empty()) {
        auto [id, when] = team_order_.front();
        team_order_.pop_front();
        auto current = by_id_.find(id);
        if (current != by_id_.end() && current->second.expires == when) evict_team(id);
    }
}

void TeamCache::insert_negative(const TokenDigest& token, steady_clock::time_point now, bool shared) {
    const auto expires = expiry(now);
    erase_token(token);
    by_token_[token] = Entry{{nullptr, Credential::public_token, shared}, expires};
    ++negative_count_;
    negative_order_.emplace_back(token, expires);
    while (negative_count_ > options_.max_negative && !negative_order_.empty()) {
        auto& [old, when] = negative_order_.front();
        auto it = by_token_.find(old);
        if (it != by_token_.end() && !it->second.answer.team && it->second.expires == when) {
            by_token_.erase(it);
            --negative_count_;
            ++stats_.evictions;
        }
        negative_order_.pop_front();
    }
}

std::optional<TeamStore::FetchResult> TeamCache::fetch(const TeamQuery& query, steady_clock::time_point now) {
    if (auto wait = fetch_limiter_.acquire(now); wait.count() > 0) {
        ++stats_.throttled_fetches;
        sleep_(wait);  // backpressure on the batch, not a query storm on the store
    }
    ++stats_.store_fetches;
    const auto started = steady_clock::now();
    TeamStore::FetchResult fetched = store_.fetch(query);
    stats_.store_latency.record(steady_clock::now() - started);
    if (fetched.error) {
        record_store_error(fetched);
        return std::nullopt;
    }
    last_error_.reset();
    return fetched;
}

bool TeamCache::reload_changed_teams(steady_clock::time_point now) {
    if (changed_teams_.empty()) return true;
    std::optional<TeamStore::FetchResult> fetched = fetch({{}, changed_teams_}, now);
    if (!fetched) return false;
    // A changed team's current tokens may be cached for another team or as unknown: forget them
    // (and their co-owners' entries go with them), so their next lookup asks the store.
    for (const Team& t : fetched->teams)
        t.for_each_token([&](const TokenDigest& token, Credential) { erase_token(token); });
    changed_teams_.clear();
    return true;
}

TeamCache::Owners TeamCache::cache_fetched(const std::vector<Team>& fetched, std::span<const TokenKey> wanted,
                                           steady_clock::time_point now) {
    // Every owner of each token: the store returns all co-owners of the teams it matched.
    std::unordered_map<TokenDigest, int64_t, TokenDigestHash> owner;
    std::unordered_set<TokenDigest, TokenDigestHash> shared;
    for (const Team& t : fetched) {
        t.for_each_token([&](const TokenDigest& token, Credential) {
            auto [it, fresh] = owner.emplace(token, t.id);
            if (!fresh && it->second != t.id) shared.insert(token);
        });
    }
    // Teams asked for are cached under all their tokens; co-owners only inform the decision,
    // since their other tokens' owners were not looked up. The answer for the wanted tokens
    // comes from the fetch itself, whatever the cache's bounds keep.
    Owners answer;
    for (const TokenKey& token : wanted) answer.emplace(token.digest, ResolvedToken{});
    for (const Team& t : fetched) {
        std::shared_ptr<const Team> team;
        t.for_each_token([&](const TokenDigest& token, Credential credential) {
            auto it = answer.find(token);
            if (it == answer.end() || shared.contains(token)) return;
            if (!team) team = std::make_shared<const Team>(t);
            it->second = {team, credential};
        });
        if (!team) continue;
        warn_unshaped_secrets(*team);
        insert_team(team, now);
    }
    // A token owned by two teams is ambiguous: refusing it beats verifying the wrong team.
    for (const TokenDigest& token : shared) {
        insert_negative(token, now, true);
        if (auto it = answer.find(token); it != answer.end()) it->second.shared = true;
    }
    for (const auto& [token, resolved] : answer) {
        if (!resolved.team && !resolved.shared) insert_negative(token, now);
    }
    return answer;
}

bool TeamCache::resolve_batch(std::span<const TokenKey> tokens, std::vector<ResolvedToken>& resolved) {
    const auto now = clock_();
    resolved.assign(tokens.size(), ResolvedToken{});
    if (!reload_changed_teams(now)) return false;
    std::vector<TokenKey> misses;
    std::unordered_set<TokenDigest, TokenDigestHash> seen_misses;
    for (size_t i = 0; i < tokens.size(); ++i) {
        auto it = by_token_.find(tokens[i].digest);
        if (it != by_token_.end() && it->second.expires > now) {
            resolved[i] = it->second.answer;
            ++(it->second.answer.team ? stats_.hits : stats_.negative_hits);
            continue;
        }
        ++stats_.misses;
        if (seen_misses.insert(tokens[i].digest).second) misses.push_back(tokens[i]);
    }
    if (misses.empty()) return true;
    std::optional<TeamStore::FetchResult> fetched = fetch({misses, {}}, now);
    if (!fetched) {
        resolved.assign(tokens.size(), ResolvedToken{});
        return false;
    }
    const Owners owners = cache_fetched(fetched->teams, misses, now);
    for (size_t i = 0; i < tokens.size(); ++i) {
        if (auto it = owners.find(tokens[i].digest); it != owners.end()) resolved[i] = it->second;
    }
    return true;
}

bool TeamCache::resolve_batch(std::span<const std::string> tokens, std::vector<std::shared_ptr<const Team>>& teams) {
    const std::vector<TokenKey> keys(tokens.begin(), tokens.end());
    std::vector<ResolvedToken> resolved;
    const bool answered = resolve_batch(keys, resolved);
    teams.clear();
    for (ResolvedToken& r : resolved) teams.push_back(std::move(r.team));
    return answered;
}

void TeamCache::record_store_error(const TeamStore::FetchResult& failed) {
    ++stats_.store_errors;
    last_error_ = failed.error;
    last_failure_ = failed.failure;
}

bool TeamCache::check_store() {
    TeamStore::FetchResult checked = store_.check();
    if (checked.error) {
        record_store_error(checked);
        return false;
    }
    last_error_.reset();
    return true;
}

TeamCache::Stats TeamCache::stats() const {
    Stats s = stats_;
    s.teams = by_id_.size();
    s.negative_entries = negative_count_;
    return s;
}

void TeamCache::Stats::add(const Stats& other) {
    hits += other.hits;
    negative_hits += other.negative_hits;
    misses += other.misses;
    store_fetches += other.store_fetches;
    evictions += other.evictions;
    throttled_fetches += other.throttled_fetches;
    store_errors += other.store_errors;
    store_latency.add(other.store_latency);
    teams += other.teams;
    negative_entries += other.negative_entries;
}

}  // namespace warden
