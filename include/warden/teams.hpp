// teams: resolving tokens to teams through a TTL cache in front of a store (SPEC §3).
#pragma once

#include <warden/core.hpp>
#include <warden/histogram.hpp>
#include <warden/rate_limiter.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace warden {

// The scope a project secret API key needs for its events to be verified (--project-key-scope).
inline constexpr std::string_view default_ingestion_scope = "event:write";

// A token as the cache and the stores look it up: its text, which a store may compare (it came in
// the message being processed), and its digest, which is what the cache keeps.
struct TokenKey {
    std::string_view text;
    TokenDigest digest;
    explicit TokenKey(std::string_view token) : text(token), digest(TokenDigest::of(token)) {}
    TokenKey(std::string_view token, const TokenDigest& known) : text(token), digest(known) {}
};

// One store round trip: the teams owning any of `tokens` (as public, secret or backup token),
// and the teams with the given ids (rows that changed, whose new tokens the cache must learn).
struct TeamQuery {
    std::span<const TokenKey> tokens;
    std::span<const int64_t> team_ids;
};

// Whether waiting can help a team store that did not answer: a transient failure (the server is
// down, restarting, overloaded) passes by itself; a permanent one (refused credentials, a missing
// table or column, a revoked privilege, an unusable connection string) needs an operator.
enum class StoreFailure { transient, permanent };

// Where team rows live: a JSON file, or PostgreSQL in production.
class TeamStore {
public:
    struct FetchResult {
        std::vector<Team> teams;                         // see fetch()
        std::optional<std::string> error;                // set when the store could not answer; never a credential
        StoreFailure failure = StoreFailure::transient;  // with `error`: whether a retry can succeed
    };
    // Teams changed in the store since the last call, whose cached keys must go.
    struct Invalidations {
        std::vector<int64_t> team_ids;
        bool everything = false;  // changes may have been missed: forget the whole cache
    };
    virtual ~TeamStore() = default;
    // The teams matching `query`, plus every team sharing a token with one of them, in one
    // round trip: whoever caches a token sees all the rows that own it, never just the first.
    virtual FetchResult fetch(const TeamQuery& query) = 0;
    FetchResult fetch_by_tokens(std::span<const std::string> tokens) {
        const std::vector<TokenKey> keys(tokens.begin(), tokens.end());
        return fetch({keys, {}});
    }
    // Never blocks. Stores without change notifications rely on the cache TTL alone.
    virtual Invalidations poll_invalidations() { return {}; }
    // Whether the store can answer lookups now: everything a fetch needs, done without looking a
    // token up (no teams in the result). Commands call it before consuming, so a wrong setting
    // shows at start-up rather than at the first event.
    virtual FetchResult check() { return {}; }
};

// One store behind several team caches that run on different threads: each cache gets a view of
// its own, calls reach the store one at a time, and every change the store notifies reaches every
// view (a cache that missed one would keep resolving a rotated-out token until its TTL).
class SharedTeamStore {
public:
    SharedTeamStore(TeamStore& store, size_t views);
    ~SharedTeamStore();
    SharedTeamStore(const SharedTeamStore&) = delete;
    SharedTeamStore& operator=(const SharedTeamStore&) = delete;

    TeamStore& view(size_t index);

    // Has every view's cache forget `changes` at its next batch, exactly as if the store had
    // notified them (the admin endpoints, for stores whose notifications cannot arrive). Safe
    // from any thread; never waits for a store call in progress.
    void invalidate(const TeamStore::Invalidations& changes);

private:
    class View;
    // Adds `news` to what every view has yet to take; pending_mutex_ held.
    void add_pending(const TeamStore::Invalidations& news);

    TeamStore& store_;
    std::mutex mutex_;                               // one store call at a time
    std::mutex pending_mutex_;                       // guards pending_; taken after mutex_, never before
    std::vector<TeamStore::Invalidations> pending_;  // per view, not yet taken
    std::vector<std::unique_ptr<View>> views_;
};

// Teams from a JSON array of team objects (SPEC §1), loaded once.
class FileTeamStore : public TeamStore {
public:
    // Throws std::runtime_error naming the file and the problem when it cannot be used.
    // A team object may list its project secret API keys as the key table holds them:
    //   "project_secret_api_keys": [{"secure_value": "sha256$<hex>", "scopes": ["event:write"]}]
    static std::unique_ptr<FileTeamStore> load(const std::string& path,
                                               std::string_view ingestion_scope = default_ingestion_scope);
    static std::unique_ptr<FileTeamStore> from_json(std::string_view json, const std::string& origin,
                                                    std::string_view ingestion_scope = default_ingestion_scope);

    FetchResult fetch(const TeamQuery& query) override;
    size_t team_count() const { return teams_.size(); }
    uint64_t fetch_count() const { return fetches_; }

private:
    // from_json() without wiping the thread's traces of the text.
    static std::unique_ptr<FileTeamStore> parse(std::string_view json, const std::string& origin,
                                                std::string_view ingestion_scope);

    std::vector<Team> teams_;
    std::unordered_multimap<TokenDigest, size_t, TokenDigestHash> by_token_;  // a token may be (wrongly) shared
    std::unordered_map<int64_t, size_t> by_id_;
    uint64_t fetches_ = 0;
};

struct PostgresStoreOptions {
    // libpq connection string or URI. A password may come from here, PGPASSWORD, ~/.pgpass or
    // `password` below; it is never logged.
    std::string conninfo;
    std::string password;  // e.g. read from --postgres-password-file; empty: libpq's own sources
    std::string table = "posthog_team";
    // Project secret API keys (deploy/sql/004); empty: none are looked up.
    std::string key_table = "posthog_projectsecretapikey";
    std::string ingestion_scope = std::string(default_ingestion_scope);
    std::string channel = "warden_team_changed";      // NOTIFY channel of deploy/sql/002
    std::chrono::milliseconds connect_timeout{3000};  // a whole connection attempt, every host included
    std::chrono::milliseconds query_timeout{2000};    // statement_timeout of the lookup
    std::chrono::milliseconds min_backoff{100};       // reconnect backoff doubles up to max
    std::chrono::milliseconds max_backoff{5000};
};

// Registers every form the store's password can take (the password option, PGPASSWORD, the
// conninfo's password, raw and decoded) with the log's redaction (log::redact).
void register_postgres_credentials(const PostgresStoreOptions& options);

// Teams from a table shaped like PostHog's posthog_team. All tokens of a fetch go in one
// prepared, parameterised query; a second connection LISTENs for the change notifications of
// deploy/sql/002. A lost connection is reopened with backoff; meanwhile fetches report an error
// (never "not found"), classified transient or permanent, and after the listener reconnects the
// whole cache is invalidated since notifications may have been missed.
class PostgresTeamStore : public TeamStore {
public:
    // Registers every form the password can take (the password option, PGPASSWORD, the conninfo's
    // password, raw and decoded) with the log's redaction before anything can log it. Connects on
    // check() or the first fetch. Throws std::invalid_argument, naming the setting but never its
    // value, when the conninfo cannot be parsed or the table or channel name is not a plain
    // identifier.
    explicit PostgresTeamStore(PostgresStoreOptions options);
    ~PostgresTeamStore() override;
    PostgresTeamStore(const PostgresTeamStore&) = delete;
    PostgresTeamStore& operator=(const PostgresTeamStore&) = delete;

    FetchResult fetch(const TeamQuery& query) override;
    Invalidations poll_invalidations() override;
    // Connects, sets the statement timeout, prepares the lookup and runs it for no token (the
    // server checks privileges only when a statement runs), and starts listening.
    FetchResult check() override;

    uint64_t query_count() const;
    // True while the lookup connection is up (for readiness).
    bool connected() const;

private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

struct TeamCacheOptions {
    std::chrono::milliseconds ttl{120'000};
    double ttl_jitter = 0.1;          // each entry lives ttl × (1 ± jitter)
    size_t max_teams = 100'000;       // positive entries (teams); FIFO-evicted past this
    size_t max_negative = 100'000;    // unknown tokens; kept apart so a flood cannot evict teams
    uint64_t seed = 0x7761726465ULL;  // jitter RNG seed
    // Store fetches per second at most, so a flood of unknown tokens in small batches cannot turn
    // into a query storm; a fetch over the cap waits for its turn. 0: no cap.
    double max_store_fetches_per_second = 50;
};

// What the cache answers for a token.
struct ResolvedToken {
    std::shared_ptr<const Team> team;  // null: refused (unknown, or owned by two teams)
    Credential credential = Credential::public_token;
    bool shared = false;  // refused because two teams own it: what the audit trail reports
};

// TTL cache of token → team, warmed across every token of a loaded team, with negative entries.
// Keyed by token digests: it holds no secret, nor any unknown token a sender tried.
class TeamCache {
public:
    using Clock = std::function<std::chrono::steady_clock::time_point()>;
    using Sleep = std::function<void(std::chrono::nanoseconds)>;

    explicit TeamCache(TeamStore& store, TeamCacheOptions options = {}, Clock clock = nullptr, Sleep sleep = nullptr);

    // Resolves every token; all misses go to the store in one fetch. Returns false (and resolves
    // nothing) when the store failed: the caller must wait and retry, never drop.
    bool resolve_batch(std::span<const TokenKey> tokens, std::vector<ResolvedToken>& resolved);
    // The same for token texts, answering teams only.
    bool resolve_batch(std::span<const std::string> tokens, std::vector<std::shared_ptr<const Team>>& teams);

    // Forgets every key of the team (all its tokens, old ones included).
    void evict_team(int64_t team_id);
    void clear();
    // Applies the store's change notifications: evicts the changed teams' cached keys and every
    // negative entry (a changed team may have given up a token cached as shared), and has the next
    // resolve_batch() learn the changed teams' current tokens first, since a changed or new team
    // may now own a token cached as another team's.
    void apply_store_changes();

    // Asks the store whether it can answer (TeamStore::check), recording the outcome as
    // last_error(). True when it can.
    bool check_store();

    // Why the last store call failed; empty once one succeeds.
    const std::optional<std::string>& last_error() const { return last_error_; }
    StoreFailure last_failure() const { return last_failure_; }

    struct Stats {
        uint64_t hits = 0, negative_hits = 0, misses = 0, store_fetches = 0, evictions = 0, throttled_fetches = 0;
        uint64_t store_errors = 0;
        LatencyHistogram store_latency;  // each store fetch, failed ones included
        size_t teams = 0, negative_entries = 0;
        void add(const Stats& other);  // another cache's (one per thread), summed
    };
    Stats stats() const;

    // More pending changes than this (a bulk update) forget the whole cache instead.
    static constexpr size_t max_pending_reloads = 10'000;

private:
    struct Entry {
        ResolvedToken answer;  // team null: a negative entry
        std::chrono::steady_clock::time_point expires;
    };
    std::chrono::steady_clock::time_point expiry(std::chrono::steady_clock::time_point now);
    void insert_team(std::shared_ptr<const Team> team, std::chrono::steady_clock::time_point now);
    void insert_negative(const TokenDigest& token, std::chrono::steady_clock::time_point now, bool shared = false);
    void erase_token(const TokenDigest& token);
    void clear_negative();
    // One store round trip through the query cap; nothing (and last_error() set) on failure.
    std::optional<TeamStore::FetchResult> fetch(const TeamQuery& query, std::chrono::steady_clock::time_point now);
    // Learns the current tokens of teams the store reported changed; false when the store failed.
    bool reload_changed_teams(std::chrono::steady_clock::time_point now);
    // The answer for each `wanted` token (no team: unknown, or owned by more than one team), cached.
    using Owners = std::unordered_map<TokenDigest, ResolvedToken, TokenDigestHash>;
    Owners cache_fetched(const std::vector<Team>& fetched, std::span<const TokenKey> wanted,
                         std::chrono::steady_clock::time_point now);

    void record_store_error(const TeamStore::FetchResult& failed);

    TeamStore& store_;
    TeamCacheOptions options_;
    Clock clock_;
    Sleep sleep_;
    RateLimiter fetch_limiter_;
    std::mt19937_64 rng_;
    std::unordered_map<TokenDigest, Entry, TokenDigestHash> by_token_;
    std::unordered_map<int64_t, Entry> by_id_;
    // Insertion order for FIFO eviction; a record is stale when its expiry no longer matches.
    std::deque<std::pair<int64_t, std::chrono::steady_clock::time_point>> team_order_;
    std::deque<std::pair<TokenDigest, std::chrono::steady_clock::time_point>> negative_order_;
    size_t negative_count_ = 0;
    std::vector<int64_t> changed_teams_;  // reported changed, current tokens not yet learnt
    std::optional<std::string> last_error_;
    StoreFailure last_failure_ = StoreFailure::transient;
    Stats stats_;
};

}  // namespace warden
