// SPEC §3–§5: a token resolves to a team, and verifies, only when exactly one team owns it, whatever
// the cache holds, in whatever order and batches the events come, across TTL expiry, evictions
// and store changes.
#include "support.hpp"

#include <random>

using namespace warden;
using namespace std::chrono_literals;

namespace {

struct ManualClock {
    std::chrono::steady_clock::time_point now{};
    TeamCache::Clock fn() {
        return [this] { return now; };
    }
};

// A team row in plain text, as the store holds it (a Team keeps its secrets as digests only).
struct Row {
    int64_t id = 0;
    std::string api_token;
    std::optional<std::string> secret_api_token;
    std::optional<std::string> secret_api_token_backup;

    template <typename F>
    void for_each_token(F&& f) const {
        for (const std::optional<std::string>& token :
             {std::optional<std::string>(api_token), secret_api_token, secret_api_token_backup}) {
            if (token && !token->empty()) f(*token);
        }
    }
    bool is_secret(const std::string& token) const {
        return secret_api_token == token || secret_api_token_backup == token;
    }
};

std::string team_json(const Row& t) {
    auto quoted = [](const std::optional<std::string>& s) { return s ? '"' + *s + '"' : std::string("null"); };
    std::string out = "{\"id\":" + std::to_string(t.id);
    out += ",\"project_id\":" + std::to_string(t.id * 10);
    out += ",\"api_token\":" + quoted(t.api_token);
    out += ",\"secret_api_token\":" + quoted(t.secret_api_token);
    out += ",\"secret_api_token_backup\":" + quoted(t.secret_api_token_backup);
    return out + "}";
}

std::string teams_json(const std::vector<Row>& teams) {
    std::string out = "[";
    for (const Row& t : teams) {
        if (out.size() > 1) out += ',';
        out += team_json(t);
    }
    return out + "]";
}

Row make_team(int64_t id, std::string pub, std::optional<std::string> secret = {},
              std::optional<std::string> backup = {}) {
    Row t;
    t.id = id;
    t.api_token = std::move(pub);
    t.secret_api_token = std::move(secret);
    t.secret_api_token_backup = std::move(backup);
    return t;
}

// A store whose rows can change, each change announced like PostgreSQL's NOTIFY. Lookups go
// through a FileTeamStore built from the current rows, so the real lookup contract is used.
class ChangingStore : public TeamStore {
public:
    explicit ChangingStore(std::vector<Row> teams) { replace(std::move(teams), {}); }

    void replace(std::vector<Row> teams, std::vector<int64_t> changed_ids) {
        teams_ = std::move(teams);
        file_ = FileTeamStore::from_json(teams_json(teams_), "changing");
        pending_.team_ids.insert(pending_.team_ids.end(), changed_ids.begin(), changed_ids.end());
    }
    const std::vector<Row>& teams() const { return teams_; }

    FetchResult fetch(const TeamQuery& query) override { return file_->fetch(query); }
    Invalidations poll_invalidations() override { return std::exchange(pending_, {}); }

private:
    std::vector<Row> teams_;
    std::unique_ptr<FileTeamStore> file_;
    Invalidations pending_;
};

// What SPEC says an event sent with `token` becomes, from every row that owns the token.
struct Expected {
    bool refused = true;
    int64_t team_id = 0;
    bool verified = false;
};

Expected expected_for(const std::vector<Row>& teams, const std::string& token) {
    Expected e;
    int owners = 0;
    for (const Row& t : teams) {
        bool owns = false;
        t.for_each_token([&](const std::string& tok) { owns = owns || tok == token; });
        if (!owns) continue;
        ++owners;
        e.team_id = t.id;
        e.verified = t.is_secret(token) && t.api_token != token;
    }
    e.refused = owners != 1;
    if (e.refused) e.verified = false;
    return e;
}

// Runs one batch of events (one per token) and checks each outcome against the rows.
void check_batch(BatchProcessor& processor, const std::vector<Row>& teams, const std::vector<std::string>& tokens) {
    std::vector<test::Input> inputs;
    for (const std::string& token : tokens) {
        inputs.push_back(test::event_with(token, R"({"event":"e","distinct_id":"u","properties":{"$verified":true}})"));
    }
    std::vector<HeaderList> headers(inputs.size());
    std::vector<std::vector<HeaderView>> header_views(inputs.size());
    std::vector<MessageView> views;
    for (size_t i = 0; i < inputs.size(); ++i) {
        for (auto& [n, v] : inputs[i].headers)
            headers[i].add(n, v ? std::optional<std::string_view>(*v) : std::nullopt);
        header_views[i] = headers[i].views();
        MessageView m;
        m.offset = static_cast<int64_t>(i);
        m.key = *inputs[i].key;
        m.value = inputs[i].value;
        m.headers = header_views[i];
        views.push_back(m);
    }
    BatchResult result;
    REQUIRE(processor.process(views, result) == BatchProcessor::Status::done);
    REQUIRE(result.outcomes.size() == tokens.size());
    for (size_t i = 0; i < tokens.size(); ++i) {
        CAPTURE(tokens[i]);
        CAPTURE(i);
        const Expected want = expected_for(teams, tokens[i]);
        const MessageOutcome& got = result.outcomes[i];
        if (want.refused) {
            CHECK(got.drop == DropCause::invalid_token);
            CHECK(got.record_count == 0);
            continue;
        }
        CAPTURE(teams_json(teams));
        REQUIRE(got.record_count == 1);
        const OutputRecord& record = result.records[got.first_record];
        CHECK(test::header(record, "team_id") == std::to_string(want.team_id));
        CHECK(test::header(record, "verified") == (want.verified ? "true" : "false"));
        CHECK(got.verification == (want.verified ? Verification::verified : Verification::stripped));
    }
}

}  // namespace

TEST_CASE(
    "ownership: a token that is one team's public token and another's secret never verifies through a warm cache") {
    // Team 10's public token is team 11's secret.
    const std::vector<Row> teams = {make_team(10, "phs_shared0000"), make_team(11, "phc_eleven", "phs_shared0000")};
    for (bool same_batch : {false, true}) {
        CAPTURE(same_batch);
        auto store = FileTeamStore::from_json(teams_json(teams), "teams.json");
        TeamCache cache(*store);
        BatchProcessor processor(cache, {}, {}, [] { return int64_t{1700000000000}; });
        if (same_batch) {
            check_batch(processor, teams, {"phc_eleven", "phs_shared0000"});
        } else {
            check_batch(processor, teams, {"phc_eleven"});      // warms team 11 under all its tokens
            check_batch(processor, teams, {"phs_shared0000"});  // must still be refused
        }
        check_batch(processor, teams, {"phs_shared0000", "phc_eleven"});
    }
}

TEST_CASE("ownership: a store change that makes a cached token shared is seen at the next batch") {
    ChangingStore store({make_team(1, "phc_one", "phs_one_secret"), make_team(2, "phc_two")});
    TeamCache cache(store);
    BatchProcessor processor(cache, {}, {}, [] { return int64_t{1700000000000}; });
    check_batch(processor, store.teams(), {"phs_one_secret", "phc_two"});  // cached: team 1, verified

    // Team 2 takes team 1's secret as its public token: events with it must be refused now,
    // although the cache holds it as team 1's secret and team 1 itself did not change.
    std::vector<Row> changed = store.teams();
    changed[1].api_token = "phs_one_secret";
    store.replace(changed, {2});
    check_batch(processor, store.teams(), {"phs_one_secret", "phc_one"});
}

TEST_CASE("ownership: a team's public token that equals its own secret does not verify") {
    const std::vector<Row> teams = {make_team(1, "phs_same", "phs_same")};
    auto store = FileTeamStore::from_json(teams_json(teams), "teams.json");
    TeamCache cache(*store);
    BatchProcessor processor(cache, {}, {}, [] { return int64_t{1700000000000}; });
    check_batch(processor, teams, {"phs_same"});
}

TEST_CASE("ownership property: verification never depends on cache state, order, batch splits, expiry or evictions") {
    std::mt19937_64 rng(20261202);
    auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
    const std::vector<std::string> pool = {"phc_a", "phc_b", "phc_c", "phs_a", "phs_b", "phs_c", "phs_d", "phs_e"};
    constexpr int scenarios = 3000;
    for (int scenario = 0; scenario < scenarios; ++scenario) {
        CAPTURE(scenario);
        // Teams whose tokens are drawn from a small pool, so they overlap often.
        auto random_teams = [&] {
            std::vector<Row> teams;
            const size_t count = 1 + pick(4);
            for (size_t i = 0; i < count; ++i) {
                auto maybe = [&]() -> std::optional<std::string> {
                    if (pick(3) == 0) return std::nullopt;
                    return pool[pick(pool.size())];
                };
                teams.push_back(make_team(static_cast<int64_t>(i + 1), pool[pick(pool.size())], maybe(), maybe()));
            }
            return teams;
        };
        ChangingStore store(random_teams());
        ManualClock clock;
        TeamCacheOptions options;
        options.ttl = 1000ms;
        options.max_teams = 1 + pick(4);  // small, so FIFO eviction happens too
        options.max_negative = 1 + pick(4);
        options.max_store_fetches_per_second = 0;
        options.seed = rng();
        TeamCache cache(store, options, clock.fn());
        BatchProcessor processor(cache, {}, {}, [] { return int64_t{1700000000000}; });

        std::string steps;  // what happened between batches, for the failure report
        std::vector<std::string> events;
        const size_t event_count = 1 + pick(40);
        for (size_t i = 0; i < event_count; ++i)
            events.push_back(pick(10) == 0 ? "phs_unknown" : pool[pick(pool.size())]);
        for (size_t done = 0; done < events.size();) {
            const size_t size = std::min(events.size() - done, 1 + pick(6));
            CAPTURE(steps);
            check_batch(processor, store.teams(),
                        {events.begin() + static_cast<long>(done), events.begin() + static_cast<long>(done + size)});
            done += size;
            switch (pick(9)) {
                case 0: {  // time passes: some entries expire
                    const size_t ms = pick(1500);
                    clock.now += std::chrono::milliseconds(ms);
                    steps += " +" + std::to_string(ms) + "ms";
                    break;
                }
                case 1: {
                    const auto id = static_cast<int64_t>(1 + pick(4));
                    cache.evict_team(id);
                    steps += " evict" + std::to_string(id);
                    break;
                }
                case 2: {  // rows change in the store and each change is announced
                    std::vector<Row> teams = random_teams();
                    std::vector<int64_t> changed;
                    for (const Row& t : teams) changed.push_back(t.id);
                    for (const Row& t : store.teams()) changed.push_back(t.id);
                    store.replace(std::move(teams), changed);
                    steps += " announced-change";
                    break;
                }
                case 3:  // rows change unannounced (no LISTEN): the TTL bounds how long the old rows count
                    store.replace(random_teams(), {});
                    clock.now += options.ttl * 12 / 10;
                    steps += " silent-change+ttl";
                    break;
                case 4:
                    cache.clear();
                    steps += " clear";
                    break;
                case 5: {  // one field of one team changes, and only that team is announced
                    std::vector<Row> teams = store.teams();
                    Row& t = teams[pick(teams.size())];
                    switch (pick(3)) {
                        case 0: t.api_token = pool[pick(pool.size())]; break;
                        case 1:
                            t.secret_api_token = pick(3) ? std::optional(pool[pick(pool.size())]) : std::nullopt;
                            break;
                        default:
                            t.secret_api_token_backup = pick(3) ? std::optional(pool[pick(pool.size())]) : std::nullopt;
                    }
                    const int64_t id = t.id;
                    store.replace(std::move(teams), {id});
                    steps += " team" + std::to_string(id) + "-changed";
                    break;
                }
                default: break;
            }
        }
    }
}
