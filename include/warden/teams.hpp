// teams: resolving tokens to teams through a TTL cache in front of a store (SPEC §3).
#pragma once

#include <warden/core.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace warden {

// Where team rows live: a JSON file now, PostgreSQL in production.
class TeamStore {
public:
    struct FetchResult {
        std::vector<Team> teams;           // every team owning any of the tokens
        std::optional<std::string> error;  // set when the store could not answer
    };
    virtual ~TeamStore() = default;
    // One round trip for all tokens, matched across api_token, secret and backup secret.
    virtual FetchResult fetch_by_tokens(std::span<const std::string> tokens) = 0;
};

// Teams from a JSON array of team objects (SPEC §1), loaded once.
class FileTeamStore : public TeamStore {
public:
    // Throws std::runtime_error naming the file and the problem when it cannot be used.
    static std::unique_ptr<FileTeamStore> load(const std::string& path);
    static std::unique_ptr<FileTeamStore> from_json(std::string_view json, const std::string& origin);

    FetchResult fetch_by_tokens(std::span<const std::string> tokens) override;
    size_t team_count() const { return teams_.size(); }
    uint64_t fetch_count() const { return fetches_; }

private:
    std::vector<Team> teams_;
    std::unordered_multimap<std::string, size_t> by_token_;  // a token may be (wrongly) shared
    uint64_t fetches_ = 0;
};

struct TeamCacheOptions {
    std::chrono::milliseconds ttl{120'000};
    double ttl_jitter = 0.1;         // each entry lives ttl × (1 ± jitter)
    size_t max_teams = 100'000;      // positive entries (teams); FIFO-evicted past this
    size_t max_negative = 100'000;   // unknown tokens; kept apart so a flood cannot evict teams
    uint64_t seed = 0x7761726465ULL; // jitter RNG seed
};

// TTL cache of token → team, warmed across every token of a loaded team, with negative entries.
class TeamCache {
public:
    using Clock = std::function<std::chrono::steady_clock::time_point()>;

    TeamCache(TeamStore& store, TeamCacheOptions options = {}, Clock clock = nullptr);

    // Resolves every token; all misses go to the store in one fetch. Returns false (and resolves
    // nothing) when the store failed: the caller must wait and retry, never drop.
    bool resolve_batch(std::span<const std::string> tokens, std::vector<std::shared_ptr<const Team>>& teams);

    // Forgets every key of the team (all its tokens, old ones included).
    void evict_team(int64_t team_id);
    void clear();

    const std::optional<std::string>& last_error() const { return last_error_; }

    struct Stats {
        uint64_t hits = 0, negative_hits = 0, misses = 0, store_fetches = 0, evictions = 0;
        size_t teams = 0, negative_entries = 0;
    };
    Stats stats() const;

private:
    struct Entry {
        std::shared_ptr<const Team> team;  // null: a negative entry
        std::chrono::steady_clock::time_point expires;
    };
    std::chrono::steady_clock::time_point expiry(std::chrono::steady_clock::time_point now);
    void insert_team(std::shared_ptr<const Team> team, std::chrono::steady_clock::time_point now);
    void insert_negative(const std::string& token, std::chrono::steady_clock::time_point now);
    void erase_token(const std::string& token);

    TeamStore& store_;
    TeamCacheOptions options_;
    Clock clock_;
    std::mt19937_64 rng_;
    std::unordered_map<std::string, Entry> by_token_;
    std::unordered_map<int64_t, Entry> by_id_;
    // Insertion order for FIFO eviction; a record is stale when its expiry no longer matches.
    std::deque<std::pair<int64_t, std::chrono::steady_clock::time_point>> team_order_;
    std::deque<std::pair<std::string, std::chrono::steady_clock::time_point>> negative_order_;
    size_t negative_count_ = 0;
    std::optional<std::string> last_error_;
    Stats stats_;
};

}  // namespace warden
