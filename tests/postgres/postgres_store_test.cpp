// PostgresTeamStore against a real server started by tests/support/with_postgres.sh.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <warden/log.hpp>
#include <warden/pipeline.hpp>
#include <warden/teams.hpp>

#include "pg_test_env.hpp"

#include <libpq-fe.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

using namespace warden;
using namespace std::chrono_literals;

namespace {

using pgtest::env;

// A superuser session for arranging rows; every statement commits on its own.
class Admin {
public:
    Admin() : conn_(PQconnectdb(env("WARDEN_TEST_PG").c_str()), PQfinish) {
        if (PQstatus(conn_.get()) != CONNECTION_OK) throw std::runtime_error(PQerrorMessage(conn_.get()));
    }
    void exec(const std::string& sql) {
        std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(conn_.get(), sql.c_str()), PQclear);
        const auto status = PQresultStatus(r.get());
        if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
            throw std::runtime_error(sql + ": " + PQerrorMessage(conn_.get()));
        }
    }

private:
    std::unique_ptr<PGconn, decltype(&PQfinish)> conn_;
};

PostgresStoreOptions store_options() {
    PostgresStoreOptions o;
    o.conninfo = env("WARDEN_TEST_PG");
    o.min_backoff = 50ms;
    o.max_backoff = 200ms;
    return o;
}

// Tokens unique to this test run's team `n`.
std::string token(const char* prefix, int n) { return std::string(prefix) + "PgTest" + std::to_string(n) + "x"; }

void insert_team(Admin& admin, int id, bool with_secrets = true) {
    admin.exec("DELETE FROM posthog_team WHERE id = " + std::to_string(id));
    admin.exec(
        "INSERT INTO posthog_team (id, project_id, name, api_token, secret_api_token, secret_api_token_backup) "
        "VALUES (" +
        std::to_string(id) + ", " + std::to_string(id + 1000) + ", 'team', '" + token("phc_", id) + "', " +
        (with_secrets ? "'" + token("phs_", id) + "'" : "NULL") + ", " +
        (with_secrets ? "'" + token("phs_", id + 500) + "'" : "NULL") + ")");
}

const Team* resolve_one(TeamCache& cache, const std::string& t) {
    static std::vector<std::shared_ptr<const Team>> teams;
    std::vector<std::string> tokens{t};
    REQUIRE(cache.resolve_batch(tokens, teams));
    return teams[0].get();
}

using pgtest::millis_until;

}  // namespace

TEST_CASE("postgres: a loaded team answers for all its tokens without another query") {
    Admin admin;
    insert_team(admin, 1);
    PostgresTeamStore store(store_options());
    TeamCache cache(store);

    const Team* team = resolve_one(cache, token("phc_", 1));
    REQUIRE(team);
    CHECK(team->id == 1);
    CHECK(team->project_id == 1001);
    REQUIRE(team->secret_api_token);
    CHECK(team->secret_api_token->matches(token("phs_", 1)));
    CHECK(team->secret_api_token->key_shaped());  // hashed by the server: never sent over
    CHECK(store.query_count() == 1);
    CHECK(store.connected());

    CHECK(resolve_one(cache, token("phs_", 1))->id == 1);
    CHECK(resolve_one(cache, token("phs_", 501))->id == 1);
    CHECK(store.query_count() == 1);  // warm-through: secret and backup came with the row
}

TEST_CASE("postgres: unknown tokens are fetched once, in one query per batch, then cached as unknown") {
    Admin admin;
    insert_team(admin, 2);
    insert_team(admin, 3);
    PostgresTeamStore store(store_options());
    TeamCache cache(store);

    std::vector<std::string> tokens = {token("phc_", 2), "phc_unknown_a", token("phs_", 3), "phc_unknown_b",
                                       "phc_unknown_a"};
    std::vector<std::shared_ptr<const Team>> teams;
    REQUIRE(cache.resolve_batch(tokens, teams));
    CHECK(store.query_count() == 1);
    CHECK(teams[0]->id == 2);
    CHECK(teams[1] == nullptr);
    CHECK(teams[2]->id == 3);
    CHECK(teams[4] == nullptr);

    REQUIRE(cache.resolve_batch(tokens, teams));
    CHECK(store.query_count() == 1);
    CHECK(cache.stats().negative_hits >= 3);
}

TEST_CASE("postgres: hostile token strings are data, never SQL or array syntax") {
    Admin admin;
    const std::string odd = R"(phc_q"uo\te,{x}NULL)";
    admin.exec("DELETE FROM posthog_team WHERE id = 4");
    admin.exec(R"(INSERT INTO posthog_team (id, project_id, api_token) VALUES (4, 4, E'phc_q"uo\\te,{x}NULL'))");
    PostgresTeamStore store(store_options());

    const std::vector<std::string> tokens = {odd,    "x'); DROP TABLE posthog_team; --", R"(")",    R"(\)", "{}",
                                             "NULL", std::string(100'000, 'a'),          "\xff\xfe"};
    TeamStore::FetchResult r = store.fetch_by_tokens(tokens);
    REQUIRE_FALSE(r.error);
    REQUIRE(r.teams.size() == 1);
    CHECK(r.teams[0].id == 4);
    CHECK(r.teams[0].api_token == odd);
    // The table is still there.
    CHECK_FALSE(store.fetch_by_tokens(std::vector<std::string>{token("phc_", 4)}).error);
}

TEST_CASE("postgres: rotation primary -> backup -> removed stops verifying within a second") {
    Admin admin;
    insert_team(admin, 5);
    PostgresTeamStore store(store_options());
    TeamCache cache(store);
    const std::string old_secret = token("phs_", 5);
    const std::string new_secret = token("phs_", 5000);
    REQUIRE(resolve_one(cache, old_secret));
    std::vector<std::shared_ptr<const Team>> unused;
    REQUIRE(cache.resolve_batch(std::vector<std::string>{new_secret}, unused));
    CHECK(resolve_one(cache, new_secret) == nullptr);  // cached as unknown before the rotation

    // Rotate: the old secret becomes the backup, a new secret is issued.
    admin.exec("UPDATE posthog_team SET secret_api_token_backup = secret_api_token, secret_api_token = '" + new_secret +
               "' WHERE id = 5");
    const double new_ms = millis_until(cache, [&] { return resolve_one(cache, new_secret) != nullptr; });
    CHECK(new_ms < 1000);
    const Team* rotated = resolve_one(cache, old_secret);
    REQUIRE(rotated);
    CHECK(rotated->is_secret(old_secret));  // still verifies, as the backup
    CHECK(rotated->is_secret(new_secret));

    // Revoke the old secret.
    admin.exec("UPDATE posthog_team SET secret_api_token_backup = NULL WHERE id = 5");
    const double revoke_ms = millis_until(cache, [&] {
        const Team* t = resolve_one(cache, old_secret);
        return t == nullptr || !t->is_secret(old_secret);
    });
    MESSAGE("new secret usable after " << new_ms << " ms; old secret revoked after " << revoke_ms << " ms");
    CHECK(revoke_ms < 1000);
    CHECK(resolve_one(cache, old_secret) == nullptr);

    // Deleting the team revokes everything it had.
    admin.exec("DELETE FROM posthog_team WHERE id = 5");
    CHECK(millis_until(cache, [&] { return resolve_one(cache, new_secret) == nullptr; }) < 1000);
}

TEST_CASE("postgres: the server stopped and restarted mid-stream drops nothing") {
    Admin admin;
    constexpr int teams = 12;
    for (int t = 0; t < teams; ++t) insert_team(admin, 100 + t);
    PostgresTeamStore store(store_options());
    TeamCache cache(store);
    BatchProcessor processor(cache);

    OutcomeCounters totals;
    uint64_t waits = 0;
    bool stopped = false, restarted = false;
    auto outage_started = std::chrono::steady_clock::now();
    for (int t = 0; t < teams; ++t) {
        // Each batch brings a team not seen before, so it needs the store.
        std::string value = R"({"uuid":"01900a3c-8f1e-7a2b-9c3d-4e5f6071829)" + std::to_string(t % 10) +
                            R"(","distinct_id":"u","event":"e","data":"{}"})";
        std::string secret = token("phs_", 100 + t);
        HeaderView header{"token", std::string_view(secret)};
        MessageView message;
        message.value = value;
        message.headers = std::span<const HeaderView>(&header, 1);
        std::vector<MessageView> batch(5, message);

        if (t == 4) {
            REQUIRE(std::system(env("WARDEN_TEST_PG_STOP").c_str()) == 0);
            stopped = true;
            outage_started = std::chrono::steady_clock::now();
        }
        BatchResult result;
        while (processor.process(batch, result) == BatchProcessor::Status::store_unavailable) {
            ++waits;
            CHECK(result.outcomes.empty());  // nothing decided while the store is away
            if (!restarted && std::chrono::steady_clock::now() - outage_started > 1s) {
                REQUIRE(std::system(env("WARDEN_TEST_PG_START").c_str()) == 0);
                restarted = true;
            }
            std::this_thread::sleep_for(50ms);
        }
        totals.add(result);
    }
    CHECK(stopped);
    CHECK(restarted);
    CHECK(waits > 0);
    CHECK(totals.consumed == teams * 5);
    CHECK(totals.verified == teams * 5);
    CHECK(totals.dropped[static_cast<size_t>(DropCause::invalid_token)] == 0);

    // The listener reconnected, so the cache was flushed: a team row is loaded afresh.
    const auto before = store.query_count();
    CHECK(resolve_one(cache, token("phc_", 100)) != nullptr);
    CHECK(store.query_count() == before + 1);
}

TEST_CASE("postgres: the reader role reads the team columns and can change nothing") {
    Admin admin;
    insert_team(admin, 6);
    admin.exec("ALTER ROLE warden_reader PASSWORD 'reader-pass-123'");
    PostgresStoreOptions o = store_options();
    o.conninfo += " user=warden_reader";
    o.password = "reader-pass-123";
    {
        PostgresTeamStore store(o);
        TeamStore::FetchResult r = store.fetch_by_tokens(std::vector<std::string>{token("phc_", 6)});
        REQUIRE_FALSE(r.error);
        REQUIRE(r.teams.size() == 1);
    }
    std::unique_ptr<PGconn, decltype(&PQfinish)> reader(
        PQconnectdb((env("WARDEN_TEST_PG") + " user=warden_reader password=reader-pass-123").c_str()), PQfinish);
    REQUIRE(PQstatus(reader.get()) == CONNECTION_OK);
    std::unique_ptr<PGresult, decltype(&PQclear)> update(
        PQexec(reader.get(), "UPDATE posthog_team SET name = 'x' WHERE id = 6"), PQclear);
    CHECK(PQresultStatus(update.get()) == PGRES_FATAL_ERROR);
    CHECK(std::string(PQerrorMessage(reader.get())).find("permission denied") != std::string::npos);

    // A wrong password is an error that does not repeat the password.
    o.password = "wrong-secret-password";
    PostgresTeamStore refused(o);
    TeamStore::FetchResult r = refused.fetch_by_tokens(std::vector<std::string>{token("phc_", 6)});
    REQUIRE(r.error);
    CHECK(r.error->find("wrong-secret-password") == std::string::npos);
}

TEST_CASE("postgres: a store that is down reports an error, never 'not found'") {
    PostgresStoreOptions o = store_options();
    o.conninfo = "host=127.0.0.1 port=1 dbname=none user=none";  // nothing listens on port 1
    PostgresTeamStore store(o);
    TeamCache cache(store);
    std::vector<std::shared_ptr<const Team>> teams;
    CHECK_FALSE(cache.resolve_batch(std::vector<std::string>{"phc_anything"}, teams));
    CHECK(cache.last_error());
    CHECK_FALSE(store.connected());
}

TEST_CASE("postgres: check() connects, prepares and runs the lookup before any event") {
    Admin admin;
    insert_team(admin, 7);
    PostgresTeamStore store(store_options());
    CHECK_FALSE(store.connected());
    TeamStore::FetchResult checked = store.check();
    CHECK_FALSE(checked.error);
    CHECK(checked.teams.empty());
    CHECK(store.connected());
    CHECK(store.query_count() == 0);  // a check looks no token up
    TeamCache cache(store);
    CHECK(resolve_one(cache, token("phc_", 7))->id == 7);
}

namespace {

// The reader role with a known password, as deploy/sql/003 leaves it (SELECT on the team columns).
PostgresStoreOptions reader_options(Admin& admin) {
    admin.exec("ALTER ROLE warden_reader PASSWORD 'reader-pass-123'");
    PostgresStoreOptions o = store_options();
    o.conninfo += " user=warden_reader";
    o.password = "reader-pass-123";
    return o;
}

void check_permanent(PostgresStoreOptions o, const std::string& mention, const std::string& secret = "") {
    CAPTURE(mention);
    PostgresTeamStore store(o);
    const TeamStore::FetchResult checked = store.check();
    REQUIRE(checked.error);
    CAPTURE(*checked.error);
    CHECK(checked.failure == StoreFailure::permanent);
    CHECK(checked.error->find(mention) != std::string::npos);
    if (!secret.empty()) CHECK(checked.error->find(secret) == std::string::npos);
    // A fetch reports the same, and retrying does not turn it transient.
    const TeamStore::FetchResult fetched = store.fetch_by_tokens(std::vector<std::string>{"phc_anything"});
    REQUIRE(fetched.error);
    CHECK(fetched.failure == StoreFailure::permanent);
}

}  // namespace

TEST_CASE("postgres: what waiting cannot fix is permanent, named with the setting to change") {
    Admin admin;
    PostgresStoreOptions o = reader_options(admin);
    SUBCASE("wrong password") {
        o.password = "wrong-secret-password";
        check_permanent(o, "--postgres-password-file", "wrong-secret-password");
    }
    SUBCASE("no password") {
        const size_t at = o.conninfo.find(" password=");
        o.conninfo = o.conninfo.substr(0, at) + o.conninfo.substr(o.conninfo.find(' ', at + 1));
        REQUIRE(o.conninfo.find("password") == std::string::npos);
        o.password.clear();
        check_permanent(o, "none was given");
    }
    SUBCASE("unknown user") {
        o.conninfo = store_options().conninfo + " user=no_such_role";
        check_permanent(o, "refused the login", "reader-pass-123");
    }
    SUBCASE("unknown database") {
        o.conninfo += " dbname=no_such_database";
        check_permanent(o, "dbname", "reader-pass-123");
    }
    SUBCASE("missing table") {
        o.table = "no_such_table";
        check_permanent(o, "--postgres-table");
    }
    SUBCASE("missing column") {
        admin.exec("DROP TABLE IF EXISTS team_without_secret");
        admin.exec("CREATE TABLE team_without_secret (id bigint, project_id bigint, name text, api_token text)");
        admin.exec("GRANT SELECT ON team_without_secret TO warden_reader");
        o.table = "team_without_secret";
        check_permanent(o, "column");
    }
    SUBCASE("SELECT revoked") {
        admin.exec("DROP TABLE IF EXISTS team_copy");
        admin.exec("CREATE TABLE team_copy (LIKE posthog_team)");
        o.table = "team_copy";
        check_permanent(o, "SELECT");
    }
    SUBCASE("CONNECT revoked") {
        admin.exec("CREATE DATABASE closed_db");
        admin.exec("REVOKE CONNECT ON DATABASE closed_db FROM PUBLIC");
        o.conninfo += " dbname=closed_db";
        check_permanent(o, "CONNECT");
        admin.exec("DROP DATABASE closed_db");
    }
}

TEST_CASE("postgres: an unparseable connection string is refused at once, without repeating it") {
    PostgresStoreOptions o = store_options();
    for (const std::string conninfo :
         {"postgresql://reader:pa%ss-word@127.0.0.1/warden", "postgresql://reader:pa%00ss-word@127.0.0.1/warden",
          "host=127.0.0.1 password='pa ss-word"}) {
        o.conninfo = conninfo;
        CAPTURE(conninfo);
        try {
            PostgresTeamStore store(o);
            FAIL("accepted");
        } catch (const std::invalid_argument& e) {
            CHECK(std::string(e.what()).find("--postgres") != std::string::npos);
            CHECK(std::string(e.what()).find("ss-word") == std::string::npos);
        }
        CHECK(log::redact("libpq said: \"" + conninfo + "\"").find("ss-word") == std::string::npos);
    }
}

TEST_CASE("postgres: a server that is down is transient; a permanent failure after start-up heals when fixed") {
    Admin admin;
    insert_team(admin, 8);
    insert_team(admin, 9);
    PostgresStoreOptions o = reader_options(admin);
    PostgresTeamStore store(o);
    REQUIRE_FALSE(store.check().error);
    TeamCache cache(store);
    REQUIRE(resolve_one(cache, token("phc_", 8)));

    // The privilege goes while running: the next lookup fails for good, cached teams still answer.
    admin.exec("REVOKE SELECT ON posthog_team FROM warden_reader");
    std::vector<std::shared_ptr<const Team>> teams;
    CHECK_FALSE(cache.resolve_batch(std::vector<std::string>{token("phc_", 9)}, teams));
    CHECK(cache.last_failure() == StoreFailure::permanent);
    CHECK(cache.last_error()->find("SELECT") != std::string::npos);
    CHECK(resolve_one(cache, token("phc_", 8)));
    admin.exec(
        "GRANT SELECT (id, project_id, name, api_token, secret_api_token, secret_api_token_backup, "
        "anonymize_ips, heatmaps_opt_in) ON posthog_team TO warden_reader");
    CHECK(millis_until(cache, [&] {
              std::vector<std::shared_ptr<const Team>> found;
              return cache.resolve_batch(std::vector<std::string>{token("phc_", 9)}, found) && found[0];
          }) < 3000);

    // The server goes: transient, for check and fetch alike.
    REQUIRE(std::system(env("WARDEN_TEST_PG_STOP").c_str()) == 0);
    const TeamStore::FetchResult checked = store.check();
    REQUIRE(checked.error);
    CHECK(checked.failure == StoreFailure::transient);
    CHECK(checked.error->find("reader-pass-123") == std::string::npos);
    CHECK_FALSE(cache.resolve_batch(std::vector<std::string>{"phc_not_cached"}, teams));
    CHECK(cache.last_failure() == StoreFailure::transient);
    REQUIRE(std::system(env("WARDEN_TEST_PG_START").c_str()) == 0);
    CHECK(millis_until(cache, [&] { return !store.check().error; }) < 3000);
}

TEST_CASE("postgres: table and channel names must be plain identifiers") {
    PostgresStoreOptions o = store_options();
    o.table = "posthog_team; DROP TABLE x";
    CHECK_THROWS_AS(PostgresTeamStore{o}, std::invalid_argument);
    o = store_options();
    o.channel = "Bad-Channel";
    CHECK_THROWS_AS(PostgresTeamStore{o}, std::invalid_argument);
}

TEST_CASE("postgres: a token one team uses publicly and another as its secret never resolves, warm cache or not") {
    Admin admin;
    admin.exec("DELETE FROM posthog_team WHERE id IN (40, 41)");
    // Team 40's public token is team 41's secret; the columns are unique each, not across.
    admin.exec("INSERT INTO posthog_team (id, project_id, api_token) VALUES (40, 40, 'phs_PgShared40x')");
    admin.exec(
        "INSERT INTO posthog_team (id, project_id, api_token, secret_api_token) "
        "VALUES (41, 41, 'phc_PgTeam41x', 'phs_PgShared40x')");
    PostgresTeamStore store(store_options());
    TeamCache cache(store);
    REQUIRE(resolve_one(cache, "phc_PgTeam41x"));  // team 41 cached under all its tokens
    CHECK(resolve_one(cache, "phs_PgShared40x") == nullptr);
    CHECK(store.query_count() == 1);  // the first lookup already brought both owners

    TeamCache cold(store);
    CHECK(resolve_one(cold, "phs_PgShared40x") == nullptr);
    CHECK(resolve_one(cold, "phc_PgTeam41x")->id == 41);
}

TEST_CASE("postgres: a change that makes a cached secret shared takes effect at the next lookup") {
    Admin admin;
    insert_team(admin, 42);
    insert_team(admin, 43);
    PostgresTeamStore store(store_options());
    TeamCache cache(store);
    REQUIRE(resolve_one(cache, token("phs_", 42))->id == 42);

    // Team 43 (never looked up here) takes team 42's secret as its public token. Only team 43
    // changed, yet the cached secret of team 42 must stop resolving.
    admin.exec("UPDATE posthog_team SET api_token = '" + token("phs_", 42) + "' WHERE id = 43");
    const double ms = millis_until(cache, [&] { return resolve_one(cache, token("phs_", 42)) == nullptr; });
    MESSAGE("shared token refused " << ms << " ms after the commit");
    CHECK(ms < 1000);
    CHECK(resolve_one(cache, token("phs_", 542))->id == 42);  // team 42's backup is still its own

    // Undone: team 43 gives the token up again. Only team 43 changed, and it was never cached,
    // yet team 42's secret must resolve to it again at once, not after the TTL.
    admin.exec("UPDATE posthog_team SET api_token = '" + token("phc_", 43) + "' WHERE id = 43");
    const double undone = millis_until(cache, [&] {
        const Team* t = resolve_one(cache, token("phs_", 42));
        return t && t->id == 42;
    });
    MESSAGE("shared token resolves again " << undone << " ms after the clash was undone");
    CHECK(undone < 1000);
    admin.exec("DELETE FROM posthog_team WHERE id IN (42, 43)");
}

// Last in this file: it empties the table.
TEST_CASE("postgres: a TRUNCATE of the team table forgets every cached team at once") {
    Admin admin;
    insert_team(admin, 44);
    PostgresTeamStore store(store_options());
    TeamCache cache(store);
    REQUIRE(resolve_one(cache, token("phs_", 44)));
    REQUIRE(resolve_one(cache, token("phc_", 44)));
    admin.exec("TRUNCATE posthog_team");
    const double ms = millis_until(cache, [&] { return resolve_one(cache, token("phs_", 44)) == nullptr; });
    MESSAGE("truncated team's secret refused " << ms << " ms after the commit");
    CHECK(ms < 1000);
}

TEST_CASE("postgres: a secret that is not a phs_ key is fingerprinted by the server, never sent, and still found") {
    Admin admin;
    admin.exec("DELETE FROM posthog_team WHERE id = 61");
    // Quotes, a backslash, a tab and a non-ASCII letter: every byte the fingerprint and the escaping
    // flag must agree on with the worker's own computation.
    const std::string secret = "legacy \"s3cr3t\" \\ with\ttab and \xc3\xa9";
    const std::string backup = "phs_plain_key_shape_61";
    admin.exec(
        "INSERT INTO posthog_team (id, project_id, name, api_token, secret_api_token, secret_api_token_backup)"
        " VALUES (61, 61, 'unshaped', 'phc_unshaped_61', E'legacy \"s3cr3t\" \\\\ with\\ttab and \xc3\xa9', '" +
        backup + "')");
    PostgresTeamStore store(store_options());
    TeamCache cache(store);
    const Team* team = resolve_one(cache, "phc_unshaped_61");
    REQUIRE(team);
    REQUIRE(team->secret_api_token);
    const SecretToken& fetched = *team->secret_api_token;
    const SecretToken local(secret);
    CHECK_FALSE(fetched.key_shaped());
    CHECK(fetched.json_escaped() == local.json_escaped());
    CHECK(fetched.json_escaped());
    CHECK(fetched.size() == secret.size());
    CHECK(fetched.matches(secret));
    CHECK(fetched.find_in("before " + secret + " after") == 7);
    CHECK(fetched.find_in(secret.substr(1)) == std::string_view::npos);
    CHECK(team->secret_api_token_backup->key_shaped());
    CHECK(team->is_secret(secret));
    CHECK(team->is_secret(backup));
}
