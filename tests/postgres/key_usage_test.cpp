// The last use of project secret API keys against the real server: the role of deploy/sql/005
// writes last_used_at of the keys sent and can do nothing else; a key is written once per interval
// however many workers send it; a locked table fails the write within the statement timeout; a
// role without the grant, or a wrong password, is told what to fix without a credential shown.
#include <doctest/doctest.h>

#include <warden/key_usage.hpp>

#include "pg_test_env.hpp"

#include <libpq-fe.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

using namespace warden;
using namespace std::chrono_literals;

namespace {

using Connection = std::unique_ptr<PGconn, decltype(&PQfinish)>;
using Result = std::unique_ptr<PGresult, decltype(&PQclear)>;

constexpr const char* usage_password = "usage-pass-4f1c9";

Connection connect(const std::string& conninfo) {
    Connection conn(PQconnectdb(conninfo.c_str()), PQfinish);
    if (PQstatus(conn.get()) != CONNECTION_OK) throw std::runtime_error(PQerrorMessage(conn.get()));
    return conn;
}

// The statement's SQLSTATE, empty when it succeeded; the first row's first value in `value`.
std::string run(PGconn* conn, const std::string& sql, std::string* value = nullptr) {
    const Result r(PQexec(conn, sql.c_str()), PQclear);
    const auto status = PQresultStatus(r.get());
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
        if (value && PQntuples(r.get()) > 0) *value = PQgetisnull(r.get(), 0, 0) ? "null" : PQgetvalue(r.get(), 0, 0);
        return "";
    }
    const char* code = PQresultErrorField(r.get(), PG_DIAG_SQLSTATE);
    return code ? code : "?????";
}

void exec(const std::string& sql) {
    const Connection admin = connect(pgtest::env("WARDEN_TEST_PG"));
    if (!run(admin.get(), sql).empty()) throw std::runtime_error(sql + ": " + PQerrorMessage(admin.get()));
}

std::string query(const std::string& sql) {
    const Connection admin = connect(pgtest::env("WARDEN_TEST_PG"));
    std::string value;
    if (!run(admin.get(), sql, &value).empty()) throw std::runtime_error(sql + ": " + PQerrorMessage(admin.get()));
    return value;
}

std::string hashed(const std::string& key) { return "sha256$" + TokenDigest::of(key).hex(); }

void insert_key(int team, const std::string& id, const std::string& key, const std::string& last_used_at = "NULL") {
    exec("INSERT INTO posthog_projectsecretapikey (id, label, secure_value, scopes, team_id, last_used_at) VALUES ('" +
         id + "', '" + id + "', '" + hashed(key) + "', ARRAY['event:write'], " + std::to_string(team) + ", " +
         last_used_at + ")");
}

// The writer's connection as deploy/sql/005's role, with a known password.
PostgresStoreOptions usage_options(const std::string& user = "warden_key_usage") {
    exec(std::string("ALTER ROLE warden_key_usage PASSWORD '") + usage_password + "'");
    PostgresStoreOptions o;
    o.conninfo = pgtest::env("WARDEN_TEST_PG") + " user=" + user;
    o.password = usage_password;
    o.key_table = "posthog_projectsecretapikey";
    o.min_backoff = 20ms;
    o.max_backoff = 100ms;
    return o;
}

std::string last_used(const std::string& id) {
    return query(
        "SELECT last_used_at IS NOT NULL AND last_used_at > now() - interval '1 minute' FROM "
        "posthog_projectsecretapikey WHERE id = '" +
        id + "'");
}

KeyUsageWrite write(KeyUsageRecorder::Writer& writer, std::initializer_list<std::string> keys) {
    std::vector<TokenDigest> digests;
    for (const std::string& key : keys) digests.push_back(TokenDigest::of(key));
    return writer(digests);
}

}  // namespace

TEST_CASE("key usage: the role of 005 writes last_used_at of the keys sent, once per interval, and nothing else") {
    exec("DELETE FROM posthog_projectsecretapikey WHERE team_id = 51");
    insert_key(51, "k51a", "phs_UsageKeyA51");
    insert_key(51, "k51b", "phs_UsageKeyB51");
    insert_key(51, "k51c", "phs_UsageKeyC51", "now() - interval '2 hours'");
    KeyUsageRecorder::Writer writer = postgres_key_usage_writer(usage_options(), 3600s);

    KeyUsageWrite first = write(writer, {"phs_UsageKeyA51", "phs_UsageKeyC51", "phs_NeverIssued51"});
    CAPTURE(first.error);
    REQUIRE(first.ok);
    CHECK(first.updated == 2);
    CHECK(last_used("k51a") == "t");
    CHECK(last_used("k51b") == "f");
    CHECK(last_used("k51c") == "t");

    // Within the interval, no worker writes the key again: not this one, not another.
    CHECK(write(writer, {"phs_UsageKeyA51"}).updated == 0);
    KeyUsageRecorder::Writer other_worker = postgres_key_usage_writer(usage_options(), 3600s);
    const KeyUsageWrite again = write(other_worker, {"phs_UsageKeyA51", "phs_UsageKeyC51"});
    REQUIRE(again.ok);
    CHECK(again.updated == 0);
    // Once it has passed, the key is written again.
    exec("UPDATE posthog_projectsecretapikey SET last_used_at = now() - interval '61 minutes' WHERE id = 'k51a'");
    CHECK(write(other_worker, {"phs_UsageKeyA51"}).updated == 1);

    // The role can set last_used_at, and do nothing else.
    const PostgresStoreOptions role = usage_options();
    const Connection as_role = connect(role.conninfo + " password=" + usage_password);
    CHECK(run(as_role.get(), "UPDATE posthog_projectsecretapikey SET label = 'x' WHERE id = 'k51b'") == "42501");
    CHECK(run(as_role.get(), "UPDATE posthog_projectsecretapikey SET scopes = ARRAY['*'] WHERE id = 'k51b'") ==
          "42501");
    CHECK(run(as_role.get(), "UPDATE posthog_projectsecretapikey SET secure_value = 'x' WHERE id = 'k51b'") == "42501");
    CHECK(run(as_role.get(), "SELECT label, mask_value FROM posthog_projectsecretapikey") == "42501");
    CHECK(run(as_role.get(), "DELETE FROM posthog_projectsecretapikey") == "42501");
    CHECK(run(as_role.get(), "INSERT INTO posthog_projectsecretapikey (id, label, team_id) VALUES ('z', 'z', 51)") ==
          "42501");
    CHECK(run(as_role.get(), "SELECT secret_api_token FROM posthog_team") == "42501");
    CHECK(run(as_role.get(), "UPDATE posthog_team SET name = 'x'") == "42501");
    CHECK(run(as_role.get(), "SELECT api_token FROM posthog_team") == "42501");
}

TEST_CASE("key usage: a locked table fails the write within the statement timeout, and the next one succeeds") {
    exec("DELETE FROM posthog_projectsecretapikey WHERE team_id = 52");
    insert_key(52, "k52a", "phs_UsageKeyA52");
    PostgresStoreOptions o = usage_options();
    o.query_timeout = 300ms;
    KeyUsageRecorder::Writer writer = postgres_key_usage_writer(o, 3600s);
    REQUIRE(write(writer, {"phs_NeverIssued52"}).ok);  // connected and prepared

    const Connection locker = connect(pgtest::env("WARDEN_TEST_PG"));
    REQUIRE(run(locker.get(), "BEGIN").empty());
    REQUIRE(run(locker.get(), "LOCK TABLE posthog_projectsecretapikey IN ACCESS EXCLUSIVE MODE").empty());
    const auto started = std::chrono::steady_clock::now();
    const KeyUsageWrite blocked = write(writer, {"phs_UsageKeyA52"});
    const auto waited = std::chrono::steady_clock::now() - started;
    REQUIRE(run(locker.get(), "COMMIT").empty());
    CAPTURE(blocked.error);
    CHECK_FALSE(blocked.ok);
    CHECK(blocked.error.find("statement timeout") != std::string::npos);
    CHECK(waited < 10s);  // bounded by the timeout (300 ms), not by the lock
    MESSAGE("a write against a locked table gave up after "
            << std::chrono::duration_cast<std::chrono::milliseconds>(waited).count() << " ms");

    KeyUsageWrite after;
    for (int i = 0; i < 50 && !after.ok; ++i) {
        after = write(writer, {"phs_UsageKeyA52"});
        if (!after.ok) std::this_thread::sleep_for(50ms);
    }
    CAPTURE(after.error);
    CHECK(after.ok);
    CHECK(after.updated == 1);
    CHECK(last_used("k52a") == "t");
}

TEST_CASE("key usage: a role without the grant, or a wrong password, is told what to fix, never the password") {
    exec("ALTER ROLE warden_reader PASSWORD 'reader-pass-77d1'");
    PostgresStoreOptions reader = usage_options("warden_reader");
    reader.password = "reader-pass-77d1";
    KeyUsageRecorder::Writer as_reader = postgres_key_usage_writer(reader, 3600s);
    const KeyUsageWrite refused = write(as_reader, {"phs_UsageKeyA51"});
    CAPTURE(refused.error);
    CHECK_FALSE(refused.ok);
    CHECK(refused.error.find("deploy/sql/005_key_usage_role.sql") != std::string::npos);
    CHECK(refused.error.find("--project-key-usage-postgres") != std::string::npos);
    CHECK(refused.error.find("reader-pass-77d1") == std::string::npos);

    PostgresStoreOptions wrong = usage_options();
    wrong.password = "not-the-password-9e2";
    KeyUsageRecorder::Writer with_wrong = postgres_key_usage_writer(wrong, 3600s);
    const KeyUsageWrite login = write(with_wrong, {"phs_UsageKeyA51"});
    CAPTURE(login.error);
    CHECK_FALSE(login.ok);
    CHECK(login.error.find("--project-key-usage-postgres") != std::string::npos);
    CHECK(login.error.find("--project-key-usage-password-file") != std::string::npos);
    CHECK(login.error.find("--postgres ") == std::string::npos);
    CHECK(login.error.find("not-the-password-9e2") == std::string::npos);

    PostgresStoreOptions bad_table = usage_options();
    bad_table.key_table = "keys; DROP TABLE posthog_team";
    CHECK_THROWS_WITH_AS(postgres_key_usage_writer(bad_table, 3600s), doctest::Contains("invalid --postgres-key-table"),
                         std::invalid_argument);
}
