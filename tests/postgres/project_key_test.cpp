// Project secret API keys against the real server: a key with the ingestion scope verifies its
// team's events, one without is refused as insufficient_scope, a deleted or rolled key stops
// working within a second, and only the "sha256$<hex>" form of a stored hash ever matches.
#include <doctest/doctest.h>

#include <warden/teams.hpp>

#include "pg_test_env.hpp"

#include <libpq-fe.h>

#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

using namespace warden;
using namespace std::chrono_literals;

namespace {

void exec(const std::string& sql) {
    std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(pgtest::env("WARDEN_TEST_PG").c_str()), PQfinish);
    std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(conn.get(), sql.c_str()), PQclear);
    const auto status = PQresultStatus(r.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        throw std::runtime_error(sql + ": " + PQerrorMessage(conn.get()));
    }
}

PostgresStoreOptions options() {
    PostgresStoreOptions o;
    o.conninfo = pgtest::env("WARDEN_TEST_PG");
    o.min_backoff = 50ms;
    o.max_backoff = 200ms;
    return o;
}

std::string hashed(const std::string& key) { return "sha256$" + TokenDigest::of(key).hex(); }

// A team without secrets of its own, and its keys (id, the stored hash, the scopes as SQL).
void insert_team(int id) {
    exec("DELETE FROM posthog_projectsecretapikey WHERE team_id = " + std::to_string(id));
    exec("DELETE FROM posthog_team WHERE id = " + std::to_string(id));
    exec("INSERT INTO posthog_team (id, project_id, name, api_token) VALUES (" + std::to_string(id) + ", " +
         std::to_string(id) + ", 'keys', 'phc_KeyTest" + std::to_string(id) + "')");
}
void insert_key(int team, const std::string& id, const std::string& secure_value, const std::string& scopes) {
    exec("INSERT INTO posthog_projectsecretapikey (id, label, secure_value, scopes, team_id) VALUES ('" + id + "', '" +
         id + "', '" + secure_value + "', " + scopes + ", " + std::to_string(team) + ")");
}

ResolvedToken resolve(TeamCache& cache, const std::string& token) {
    const std::vector<TokenKey> keys{TokenKey(token)};
    std::vector<ResolvedToken> out;
    REQUIRE(cache.resolve_batch(keys, out));
    return out.at(0);
}

using pgtest::millis_until;

}  // namespace

TEST_CASE("project keys: a scoped key verifies, an unscoped one is refused, misses in one query per batch") {
    insert_team(41);
    const std::string scoped = "phs_ProjectKeyScoped41", unscoped = "phs_ProjectKeyUnscoped41";
    insert_key(41, "k41a", hashed(scoped), "ARRAY['feature_flag:read', 'event:write']");
    insert_key(41, "k41b", hashed(unscoped), "ARRAY['feature_flag:read']");
    insert_key(41, "k41c", hashed("phs_ProjectKeyNullScopes41"), "NULL");
    PostgresTeamStore store(options());
    TeamCache cache(store);

    const std::vector<TokenKey> batch{TokenKey(scoped), TokenKey(unscoped), TokenKey("phs_ProjectKeyNullScopes41"),
                                      TokenKey("phs_NoSuchKey41")};
    std::vector<ResolvedToken> out;
    REQUIRE(cache.resolve_batch(batch, out));
    CHECK(store.query_count() == 1);
    REQUIRE(out[0].team);
    CHECK(out[0].team->id == 41);
    CHECK(out[0].credential == Credential::project_key);
    CHECK(verifies(out[0].credential));
    REQUIRE(out[1].team);
    CHECK(out[1].credential == Credential::project_key_without_scope);
    CHECK_FALSE(verifies(out[1].credential));
    CHECK(out[2].credential == Credential::project_key_without_scope);
    CHECK_FALSE(out[3].team);
    // The team's public token, looked up later, comes from the cache: its keys were learnt together.
    CHECK(resolve(cache, "phc_KeyTest41").credential == Credential::public_token);
    CHECK(store.query_count() == 1);

    // Another scope configured: the same keys swap roles.
    PostgresStoreOptions other = options();
    other.ingestion_scope = "feature_flag:read";
    PostgresTeamStore rescoped(other);
    TeamCache rescoped_cache(rescoped);
    CHECK(resolve(rescoped_cache, unscoped).credential == Credential::project_key);
    CHECK(resolve(rescoped_cache, "phs_ProjectKeyNullScopes41").credential == Credential::project_key_without_scope);

    // Without the key table, keys are not looked up at all.
    PostgresStoreOptions no_keys = options();
    no_keys.key_table.clear();
    PostgresTeamStore keyless(no_keys);
    TeamCache keyless_cache(keyless);
    CHECK_FALSE(resolve(keyless_cache, scoped).team);
}

TEST_CASE("project keys: deleted, rolled or unscoped, a key stops verifying within a second") {
    insert_team(42);
    const std::string first = "phs_ProjectKeyFirst42", rolled = "phs_ProjectKeyRolled42";
    insert_key(42, "k42", hashed(first), "ARRAY['event:write']");
    PostgresTeamStore store(options());
    TeamCache cache(store);
    CHECK(resolve(cache, first).credential == Credential::project_key);
    CHECK_FALSE(resolve(cache, rolled).team);  // cached as unknown before the roll

    exec("UPDATE posthog_projectsecretapikey SET secure_value = '" + hashed(rolled) + "' WHERE id = 'k42'");
    const double roll_ms = millis_until(cache, [&] {
        return !resolve(cache, first).team && resolve(cache, rolled).credential == Credential::project_key;
    });
    CHECK(roll_ms < 1000);

    exec("UPDATE posthog_projectsecretapikey SET scopes = ARRAY['feature_flag:read'] WHERE id = 'k42'");
    const double unscope_ms =
        millis_until(cache, [&] { return resolve(cache, rolled).credential == Credential::project_key_without_scope; });
    CHECK(unscope_ms < 1000);

    exec("DELETE FROM posthog_projectsecretapikey WHERE id = 'k42'");
    const double delete_ms = millis_until(cache, [&] { return !resolve(cache, rolled).team; });
    MESSAGE("rolled after " << roll_ms << " ms, unscoped after " << unscope_ms << " ms, deleted after " << delete_ms
                            << " ms");
    CHECK(delete_ms < 1000);
}

TEST_CASE("project keys: a stored hash of any other form never matches") {
    insert_team(43);
    const std::string key = "phs_ProjectKeyForged43";
    const std::string hex = TokenDigest::of(key).hex();
    std::string upper = hex;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    int n = 0;
    for (const std::string& forged : {"pbkdf2_sha256$" + hex, "sha1$" + hex, "sha512$" + hex, "SHA256$" + hex,
                                      "sha256$" + upper, hex, "sha256$" + hex + " ", "sha256$" + key, key}) {
        CAPTURE(forged);
        exec("DELETE FROM posthog_projectsecretapikey WHERE team_id = 43");
        insert_key(43, "k43_" + std::to_string(n++), forged, "ARRAY['event:write']");
        PostgresTeamStore store(options());
        TeamCache cache(store);
        CHECK_FALSE(resolve(cache, key).team);
    }
    // The genuine form, for contrast.
    exec("DELETE FROM posthog_projectsecretapikey WHERE team_id = 43");
    insert_key(43, "k43_real", hashed(key), "ARRAY['event:write']");
    PostgresTeamStore store(options());
    TeamCache cache(store);
    CHECK(resolve(cache, key).credential == Credential::project_key);
}
