// The team cache, SPEC §3.4–3.5: warm-through, negative entries, TTL with jitter, bounds, one fetch per batch.
#include "support.hpp"

#include <warden/log.hpp>

using namespace warden;
using namespace std::chrono_literals;

namespace {

// A store that counts fetches and can be switched off. Returns the matches and their
// co-owners, as the TeamStore contract asks.
struct FakeStore : TeamStore {
    std::vector<Team> teams;
    std::vector<std::vector<std::string>> fetches;
    std::vector<std::vector<int64_t>> reloads;  // the ids of each fetch that asked for any
    bool down = false;
    Invalidations pending;  // handed out by the next poll_invalidations()
    Invalidations poll_invalidations() override { return std::exchange(pending, {}); }
    FetchResult fetch(const TeamQuery& query) override {
        std::vector<std::string> texts;
        std::vector<TokenDigest> wanted;
        for (const TokenKey& key : query.tokens) {
            texts.emplace_back(key.text);
            wanted.push_back(key.digest);
        }
        if (!texts.empty()) fetches.push_back(texts);
        if (!query.team_ids.empty()) reloads.emplace_back(query.team_ids.begin(), query.team_ids.end());
        if (down) return {{}, "connection refused"};
        FetchResult r;
        auto owns_any = [](const Team& t, const std::vector<TokenDigest>& tokens) {
            bool match = false;
            t.for_each_token([&](const TokenDigest& tok, Credential) {
                for (const auto& want : tokens) match = match || tok == want;
            });
            return match;
        };
        std::vector<TokenDigest> closure;
        for (const Team& t : teams) {
            const bool by_id = std::find(query.team_ids.begin(), query.team_ids.end(), t.id) != query.team_ids.end();
            if (by_id || owns_any(t, wanted)) {
                t.for_each_token([&](const TokenDigest& tok, Credential) { closure.push_back(tok); });
            }
        }
        for (const Team& t : teams) {
            if (owns_any(t, closure)) r.teams.push_back(t);
        }
        return r;
    }
};

Team team(int64_t id, std::string pub, std::optional<std::string> secret = {}, std::optional<std::string> backup = {}) {
    Team t;
    t.id = id;
    t.project_id = id;
    t.api_token = std::move(pub);
    t.secret_api_token = std::move(secret);
    t.secret_api_token_backup = std::move(backup);
    return t;
}

struct ManualClock {
    std::chrono::steady_clock::time_point now{};
    TeamCache::Clock fn() {
        return [this] { return now; };
    }
};

}  // namespace

TEST_CASE("cache: one fetch per batch of misses, then warm across every token") {
    FakeStore store;
    store.teams = {team(1, "phc_a", "phs_a", "phs_a_old"), team(2, "phc_b")};
    TeamCache cache(store);
    std::vector<std::shared_ptr<const Team>> out;
    std::vector<std::string> batch = {"phc_a", "phc_a", "phc_b", "phc_nope"};
    REQUIRE(cache.resolve_batch(batch, out));
    REQUIRE(store.fetches.size() == 1);
    CHECK(store.fetches[0].size() == 3);  // duplicates collapsed
    CHECK(out[0]->id == 1);
    CHECK(out[2]->id == 2);
    CHECK(out[3] == nullptr);
    // The secret and backup were loaded with the row: no second fetch.
    std::vector<std::string> secrets = {"phs_a", "phs_a_old", "phc_nope"};
    REQUIRE(cache.resolve_batch(secrets, out));
    CHECK(store.fetches.size() == 1);
    CHECK(out[0]->id == 1);
    CHECK(out[1]->id == 1);
    CHECK(out[2] == nullptr);  // negative entry
    CHECK(cache.stats().negative_hits == 1);
}

TEST_CASE("cache: entries expire after the TTL with bounded jitter") {
    FakeStore store;
    store.teams = {team(1, "phc_a")};
    ManualClock clock;
    TeamCache cache(store, {.ttl = 100s, .ttl_jitter = 0.1}, clock.fn());
    std::vector<std::shared_ptr<const Team>> out;
    std::vector<std::string> batch = {"phc_a"};
    REQUIRE(cache.resolve_batch(batch, out));
    clock.now += 89s;
    REQUIRE(cache.resolve_batch(batch, out));
    CHECK(store.fetches.size() == 1);
    clock.now += 22s;  // past 110 s, the longest jittered TTL
    REQUIRE(cache.resolve_batch(batch, out));
    CHECK(store.fetches.size() == 2);
}

TEST_CASE("cache: a store failure resolves nothing and is reported, never turned into unknown") {
    FakeStore store;
    store.teams = {team(1, "phc_a")};
    store.down = true;
    TeamCache cache(store);
    std::vector<std::shared_ptr<const Team>> out;
    std::vector<std::string> batch = {"phc_a"};
    CHECK_FALSE(cache.resolve_batch(batch, out));
    CHECK(cache.last_error() == "connection refused");
    store.down = false;
    REQUIRE(cache.resolve_batch(batch, out));  // not negatively cached while down
    CHECK(out[0]->id == 1);
    CHECK_FALSE(cache.last_error());
}

TEST_CASE("cache: evicting a team forgets all its tokens, old ones included") {
    FakeStore store;
    store.teams = {team(1, "phc_a", "phs_old")};
    TeamCache cache(store);
    std::vector<std::shared_ptr<const Team>> out;
    std::vector<std::string> batch = {"phs_old"};
    REQUIRE(cache.resolve_batch(batch, out));
    store.teams = {team(1, "phc_a", "phs_new")};  // rotated in the store
    REQUIRE(cache.resolve_batch(batch, out));
    CHECK(out[0] != nullptr);  // still cached: only the TTL or an eviction ends it
    cache.evict_team(1);
    REQUIRE(cache.resolve_batch(batch, out));
    CHECK(out[0] == nullptr);
}

TEST_CASE("cache: bounded; a flood of unknown tokens cannot evict teams") {
    FakeStore store;
    store.teams = {team(1, "phc_a")};
    TeamCache cache(store, {.max_teams = 10, .max_negative = 100});
    std::vector<std::shared_ptr<const Team>> out;
    std::vector<std::string> a = {"phc_a"};
    REQUIRE(cache.resolve_batch(a, out));
    std::vector<std::string> flood;
    for (int i = 0; i < 1000; ++i) flood.push_back("phc_random_" + std::to_string(i));
    REQUIRE(cache.resolve_batch(flood, out));
    CHECK(cache.stats().negative_entries <= 100);
    size_t fetches = store.fetches.size();
    REQUIRE(cache.resolve_batch(a, out));
    CHECK(store.fetches.size() == fetches);  // the team stayed cached
    CHECK(out[0]->id == 1);
}

TEST_CASE("cache: a token owned by two teams is refused") {
    FakeStore store;
    store.teams = {team(1, "phc_a", "phs_shared"), team(2, "phs_shared")};
    TeamCache cache(store);
    std::vector<std::shared_ptr<const Team>> out;
    std::vector<std::string> batch = {"phs_shared", "phc_a"};
    REQUIRE(cache.resolve_batch(batch, out));
    CHECK(out[0] == nullptr);
    CHECK(out[1]->id == 1);
}

TEST_CASE("team cache: store change notifications evict the team's keys, old tokens included") {
    FakeStore store;
    store.teams = {team(1, "phc_a", "phs_old"), team(2, "phc_b")};
    TeamCache cache(store);
    std::vector<std::shared_ptr<const Team>> out;
    REQUIRE(cache.resolve_batch(std::vector<std::string>{"phs_old", "phc_b", "phs_new"}, out));
    REQUIRE(out[2] == nullptr);  // the new secret is cached as unknown
    CHECK(store.fetches.size() == 1);

    // Rotation in the store: phs_old is replaced by phs_new, then the notification arrives.
    store.teams[0].secret_api_token = "phs_new";
    store.pending.team_ids = {1};
    cache.apply_store_changes();
    REQUIRE(cache.resolve_batch(std::vector<std::string>{"phs_old", "phs_new", "phc_b"}, out));
    CHECK(store.fetches.size() == 2);
    CHECK(store.fetches.back() == std::vector<std::string>{"phs_old", "phs_new"});  // team 2 stayed cached
    CHECK(out[0] == nullptr);
    REQUIRE(out[1]);
    CHECK(out[1]->is_secret("phs_new"));

    // `everything` forgets the whole cache.
    store.pending.everything = true;
    cache.apply_store_changes();
    CHECK(cache.stats().teams == 0);
    CHECK(cache.stats().negative_entries == 0);
    cache.apply_store_changes();  // nothing pending: nothing happens
}

TEST_CASE("team cache: a flood of unknown tokens in tiny batches is capped in store queries per second") {
    FakeStore store;
    ManualClock clock;
    std::chrono::nanoseconds slept{0};
    TeamCacheOptions options;
    options.max_store_fetches_per_second = 20;
    TeamCache cache(
        store, options, [&] { return clock.now; },
        [&](std::chrono::nanoseconds d) {
            slept += d;
            clock.now += std::chrono::duration_cast<std::chrono::steady_clock::duration>(d);
        });
    std::vector<std::shared_ptr<const Team>> out;
    for (int i = 0; i < 200; ++i) {
        REQUIRE(cache.resolve_batch(std::vector<std::string>{"phc_random" + std::to_string(i)}, out));
    }
    CHECK(store.fetches.size() == 200);  // every token was new, so each batch needed the store...
    // ...but at no more than 20 per second: 200 fetches take about 10 s (minus the initial burst).
    const double seconds = std::chrono::duration<double>(slept).count();
    CHECK(seconds > 9.5);
    CHECK(seconds < 10.5);
    CHECK(cache.stats().throttled_fetches > 190);

    // Repeats of the same unknown tokens are negative hits: no store query, no wait.
    const auto fetches = store.fetches.size();
    for (int i = 0; i < 200; ++i) {
        REQUIRE(cache.resolve_batch(std::vector<std::string>{"phc_random" + std::to_string(i)}, out));
    }
    CHECK(store.fetches.size() == fetches);
}

namespace {
std::vector<std::string> cache_log;
void capture_cache_log(const std::string& line) { cache_log.push_back(line); }
}  // namespace

TEST_CASE("team cache: a secret of another shape than phs_ is reported once cached, without the secret") {
    FakeStore store;
    store.teams = {team(1, "phc_a", "phs_fine0123"), team(2, "phc_b", "sk_live_legacy99", "phs_ok")};
    TeamCache cache(store);
    cache_log.clear();
    log::set_sink(capture_cache_log);
    std::vector<std::shared_ptr<const Team>> out;
    REQUIRE(cache.resolve_batch(std::vector<std::string>{"phc_a", "phc_b"}, out));
    log::set_sink(nullptr);
    REQUIRE(cache_log.size() == 1);
    CHECK(cache_log[0].find("\"team_id\":\"2\"") != std::string::npos);
    CHECK(cache_log[0].find("\"column\":\"secret_api_token\"") != std::string::npos);
    CHECK(cache_log[0].find("legacy99") == std::string::npos);
}
