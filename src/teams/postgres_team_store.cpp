// PostgreSQL team store: batched lookups over libpq, with a LISTEN connection for rotations.
#include "postgres_connection.hpp"
#include "postgres_conninfo.hpp"
#include "postgres_errors.hpp"

#include <warden/log.hpp>
#include <warden/teams.hpp>

#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <stdexcept>

namespace warden {
namespace {

using postgres::NotifyPtr;
using postgres::ResultPtr;

constexpr const char* fetch_statement = "warden_fetch_teams";
constexpr std::string_view listening = "listening for team changes";

// The tokens as one text[] literal: each element quoted, with '"' and '\' escaped, so no token
// can change the array's shape (the value is a bound parameter, never part of the SQL text).
std::string text_array_literal(std::span<const std::string_view> tokens) {
    std::string out = "{";
    for (size_t i = 0; i < tokens.size(); ++i) {
        if (i) out += ',';
        out += '"';
        for (char c : tokens[i]) {
            if (c == '"' || c == '\\') out += '\\';
            out += c;
        }
        out += '"';
    }
    return out + "}";
}

std::string id_array_literal(std::span<const int64_t> ids) {
    std::string out = "{";
    for (size_t i = 0; i < ids.size(); ++i) {
        if (i) out += ',';
        out += std::to_string(ids[i]);
    }
    return out + "}";
}

TeamStore::FetchResult failed(const postgres::Failure& failure) {
    TeamStore::FetchResult result;
    result.error = failure.message;
    result.failure = failure.kind;
    return result;
}

}  // namespace

class PostgresTeamStore::Impl {
public:
    explicit Impl(PostgresStoreOptions options)
        : options_(std::move(options)), lookup_(options_, "lookup"), listener_(options_, "listener") {
        register_postgres_credentials(options_);
        if (auto problem = postgres::conninfo_problem(options_.conninfo)) throw std::invalid_argument(*problem);
        if (!postgres::plain_identifier(options_.table)) {
            throw std::invalid_argument("invalid --postgres-table " + options_.table +
                                        ": a table name of lower-case letters, digits, '_' and '.' (schema.table)");
        }
        if (!options_.key_table.empty() && !postgres::plain_identifier(options_.key_table)) {
            throw std::invalid_argument("invalid --postgres-key-table " + options_.key_table +
                                        ": a table name of lower-case letters, digits, '_' and '.' (schema.table)");
        }
        if (!postgres::plain_identifier(options_.channel))
            throw std::invalid_argument("invalid channel name: " + options_.channel);
    }

    FetchResult fetch(const TeamQuery& query) {
        // Listen before loading rows, so no change to a row we cache can go unheard.
        start_listening();
        // Stored tokens are printable ASCII; anything else cannot match, and text that is not
        // valid in the database encoding would fail the whole query (and the batch with it).
        matchable_.clear();
        key_hashes_.clear();
        for (const TokenKey& key : query.tokens) {
            const std::string_view t = key.text;
            if (std::all_of(t.begin(), t.end(), [](char c) { return c > 0x20 && c < 0x7f; })) matchable_.push_back(t);
            // A project secret API key is looked up by its hash alone, as the table keeps it.
            if (t.starts_with("phs_") && !options_.key_table.empty())
                key_hashes_.push_back("sha256$" + key.digest.hex());
        }
        if (matchable_.empty() && query.team_ids.empty()) return {};
        ++queries_;
        std::string tokens = text_array_literal(matchable_);
        const std::vector<std::string_view> hashes(key_hashes_.begin(), key_hashes_.end());
        FetchResult result = lookup(tokens, id_array_literal(query.team_ids), text_array_literal(hashes));
        wipe(tokens);  // the batch's tokens, secrets among them, are not kept past the lookup
        if (!result.error) loaded_rows_ = true;
        return result;
    }

    FetchResult check() {
        // The listener only speeds up rotations (the TTL bounds them without it): it logs its own
        // failures and does not fail the check.
        start_listening();
        // Privileges are checked when a statement runs, not when it is prepared: look nothing up.
        return lookup("{}", "{}", "{}");
    }

    Invalidations poll() {
        Invalidations changes;
        PGconn* conn = start_listening();
        changes.everything = std::exchange(missed_changes_, false);
        if (!conn) return changes;
        if (!PQconsumeInput(conn)) {
            listener_.drop(postgres::statement_failure(conn, nullptr, listening));
            missed_changes_ = loaded_rows_;  // flushed again once the listener is back
            return changes;
        }
        while (NotifyPtr n{PQnotifies(conn)}) {
            char* end = nullptr;
            const long long id = std::strtoll(n->extra, &end, 10);
            if (end != n->extra && *end == '\0') {
                changes.team_ids.push_back(id);
            } else {
                changes.everything = true;  // '*' (a TRUNCATE), or an unexpected payload: be safe
            }
        }
        return changes;
    }

    // The listening connection, (re)opened when the backoff allows; null while down.
    PGconn* start_listening() {
        bool reopened = false;
        PGconn* conn = listener_.get(reopened);
        if (!conn || !reopened) return conn;
        ResultPtr r(PQexec(conn, ("LISTEN " + options_.channel).c_str()));
        if (!r || PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
            listener_.drop(postgres::statement_failure(conn, r.get(), listening));
            return nullptr;
        }
        listener_.healthy();
        // Rows loaded while nobody listened may have changed unheard: the cache starts over.
        if (loaded_rows_) missed_changes_ = true;
        return conn;
    }

    uint64_t queries() const { return queries_; }
    bool connected() const { return lookup_.up(); }

private:
    // The lookup for the tokens and team ids of two array literals, on a connection opened and
    // prepared if needed.
    FetchResult lookup(const std::string& token_array, const std::string& id_array, const std::string& key_array) {
        bool reopened = false;
        PGconn* conn = lookup_.get(reopened);
        if (!conn) return failed(lookup_.failure());
        if (reopened && !prepare(conn)) {
            postgres::Failure failure = postgres::statement_failure(conn, nullptr);
            lookup_.drop(failure);
            return failed(failure);
        }
        const std::string base = std::to_string(SecretToken::fingerprint_base());
        const char* params[] = {token_array.c_str(), id_array.c_str(), key_array.c_str(),
                                options_.ingestion_scope.c_str(), base.c_str()};
        ResultPtr r(PQexecPrepared(conn, fetch_statement, 5, params, nullptr, nullptr, 0));
        if (!r || PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
            postgres::Failure failure = postgres::statement_failure(conn, r.get());
            // A permanent failure may come from what was prepared (a table dropped and created
            // again): the next attempt prepares afresh on a new connection.
            if (PQstatus(conn) != CONNECTION_OK || failure.kind == StoreFailure::permanent) lookup_.drop(failure);
            return failed(failure);
        }
        lookup_.healthy();
        FetchResult result;
        for (int row = 0; row < PQntuples(r.get()); ++row) result.teams.push_back(team_of(r.get(), row));
        return result;
    }

    bool prepare(PGconn* conn) {
        const std::string timeout = "SET statement_timeout = " + std::to_string(options_.query_timeout.count());
        ResultPtr set(PQexec(conn, timeout.c_str()));
        if (!set || PQresultStatus(set.get()) != PGRES_COMMAND_OK) return false;
        // The rows matching the tokens or ids, then every row sharing a token with one of them
        // (the cache refuses a token more than one team owns). Both steps are index lookups:
        // `= ANY(array)` on the token columns' unique indexes and the primary key (a join with
        // the CTE instead would scan the whole table).
        // With project secret API keys, the teams of the keys whose hash is in $3 match too, and each
        // row returned carries the hashes of all its team's keys (so one key's lookup learns the
        // others), those with the scope $4 apart from those without. Only a secure_value of the
        // form "sha256$" and 64 hex digits counts: any other form is never matched.
        const std::string& t = options_.table;
        const std::string& k = options_.key_table;
        const std::string keyed_teams =
            k.empty() ? "" : " OR id = ANY(ARRAY(SELECT team_id FROM " + k + " WHERE secure_value = ANY($3::text[])))";
        const auto key_hashes = [&](bool scoped) {
            if (k.empty()) return std::string("''");
            return "array_to_string(ARRAY(SELECT substr(secure_value, 8) FROM " + k +
                   " AS key WHERE key.team_id = team.id AND key.secure_value ~ '^sha256\\$[0-9a-f]{64}$' AND " +
                   (scoped ? "" : "NOT ") + "COALESCE($4::text = ANY(key.scopes), false) ORDER BY 1), ' ')";
        };
        // The powers of the fingerprint base $5 modulo 2^61 - 1, for the secrets that are not phs_
        // keys (computed only if there is one; 4,096 bytes covers any column PostHog has).
        const std::string sql =
            "WITH RECURSIVE powers(n, w) AS (SELECT 0, 1::numeric UNION ALL"
            " SELECT n + 1, mod(w * $5::numeric, 2305843009213693951) FROM powers WHERE n < 4095),"
            " matched AS (SELECT id, api_token, secret_api_token, secret_api_token_backup FROM " +
            t +
            " WHERE api_token = ANY($1::text[]) OR secret_api_token = ANY($1::text[])"
            " OR secret_api_token_backup = ANY($1::text[]) OR id = ANY($2::bigint[])" +
            keyed_teams +
            "),"
            " owned AS (SELECT token::text FROM matched,"
            " LATERAL (VALUES (api_token), (secret_api_token), (secret_api_token_backup)) AS v(token)"
            " WHERE token IS NOT NULL AND token <> '')"
            " SELECT id, project_id, name, api_token, " +
            secret_columns("secret_api_token") + ", " + secret_columns("secret_api_token_backup") +
            ", anonymize_ips, heatmaps_opt_in, " + key_hashes(true) + ", " + key_hashes(false) + " FROM " + t +
            " AS team"
            " WHERE id = ANY(ARRAY(SELECT id FROM matched)) OR api_token = ANY(ARRAY(SELECT token FROM owned))"
            " OR secret_api_token = ANY(ARRAY(SELECT token FROM owned))"
            " OR secret_api_token_backup = ANY(ARRAY(SELECT token FROM owned))";
        // Typed here: without a key table, $3 and $4 appear nowhere in the text.
        const Oid types[] = {1009 /* text[] */, 1016 /* bigint[] */, 1009, 25 /* text */, 1700 /* numeric */};
        ResultPtr r(PQprepare(conn, fetch_statement, sql.c_str(), 5, types));
        return r && PQresultStatus(r.get()) == PGRES_COMMAND_OK;
    }

    // A secret column as the two columns secret_of() reads, both computed by the server, so that no
    // secret ever crosses the wire: its digest, and for a secret that is not plainly a phs_ key,
    // what finding it in a text takes (SecretToken::from_fingerprint): "SIZE ESCAPED FINGERPRINT".
    static std::string secret_columns(const std::string& column) {
        const std::string bytes = "convert_to(" + column + ", 'UTF8')";
        return "encode(sha256(" + bytes + "), 'hex'), CASE WHEN " + column + " IS NULL OR " + column +
               " ~ '^phs_[A-Za-z0-9_-]+$' THEN NULL ELSE (SELECT COALESCE(max(octet_length(s.b)), 0) || ' ' ||"
               " COALESCE(bool_or(get_byte(s.b, g.i) < 32 OR get_byte(s.b, g.i) IN (34, 92)), false)::int || ' ' ||"
               " COALESCE(mod(sum(get_byte(s.b, g.i) * powers.w), 2305843009213693951), 0)"
               " FROM (SELECT " +
               bytes +
               " AS b) AS s, generate_series(0, octet_length(s.b) - 1) AS g(i), powers"
               " WHERE powers.n = octet_length(s.b) - 1 - g.i) END";
    }

    static std::optional<SecretToken> secret_of(PGresult* r, int row, int digest_col) {
        if (PQgetisnull(r, row, digest_col)) return std::nullopt;
        std::optional<TokenDigest> digest = TokenDigest::from_hex(PQgetvalue(r, row, digest_col));
        if (!digest) return std::nullopt;  // not what sha256() gives: nothing can match it
        const int shape_col = digest_col + 1;
        if (PQgetisnull(r, row, shape_col)) return SecretToken::key_shaped_digest(*digest);
        // "SIZE ESCAPED FINGERPRINT", as secret_columns() has the server write it.
        const std::string_view shape = PQgetvalue(r, row, shape_col);
        uint64_t numbers[3] = {};
        const char* at = shape.data();
        const char* const end = shape.data() + shape.size();
        for (uint64_t& number : numbers) {
            const auto [next, failure] = std::from_chars(at, end, number);
            if (failure != std::errc()) return std::nullopt;  // not the server's answer: nothing can match it
            at = next < end && *next == ' ' ? next + 1 : next;
        }
        return SecretToken::from_fingerprint(*digest, numbers[0], numbers[1] != 0, numbers[2]);
    }

    static Team team_of(PGresult* r, int row) {
        Team t;
        t.id = std::strtoll(PQgetvalue(r, row, 0), nullptr, 10);
        t.project_id = std::strtoll(PQgetvalue(r, row, 1), nullptr, 10);
        t.name = PQgetvalue(r, row, 2);
        t.api_token = PQgetvalue(r, row, 3);
        t.secret_api_token = secret_of(r, row, 4);
        t.secret_api_token_backup = secret_of(r, row, 6);
        t.anonymize_ips = !PQgetisnull(r, row, 8) && PQgetvalue(r, row, 8)[0] == 't';
        if (!PQgetisnull(r, row, 9)) t.heatmaps_opt_in = PQgetvalue(r, row, 9)[0] == 't';
        for (const bool scoped : {true, false}) {
            std::string_view hashes = PQgetvalue(r, row, scoped ? 10 : 11);
            while (!hashes.empty()) {
                const size_t end = std::min(hashes.find(' '), hashes.size());
                if (std::optional<TokenDigest> digest = TokenDigest::from_hex(hashes.substr(0, end))) {
                    t.project_keys.push_back({*digest, scoped});
                }
                hashes.remove_prefix(std::min(end + 1, hashes.size()));
            }
        }
        return t;
    }

    PostgresStoreOptions options_;
    postgres::Reconnecting lookup_;
    postgres::Reconnecting listener_;
    bool loaded_rows_ = false;     // rows (or their absence) were handed to the cache
    bool missed_changes_ = false;  // to report as `everything` at the next poll
    std::vector<std::string_view> matchable_;
    std::vector<std::string> key_hashes_;
    uint64_t queries_ = 0;
};

void register_postgres_credentials(const PostgresStoreOptions& options) {
    log::add_sensitive_value(options.password);
    if (const char* from_environment = std::getenv("PGPASSWORD")) log::add_sensitive_value(from_environment);
    for (const std::string& form : postgres::password_forms(options.conninfo)) log::add_sensitive_value(form);
}

PostgresTeamStore::PostgresTeamStore(PostgresStoreOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}
PostgresTeamStore::~PostgresTeamStore() = default;

TeamStore::FetchResult PostgresTeamStore::fetch(const TeamQuery& query) { return impl_->fetch(query); }
TeamStore::Invalidations PostgresTeamStore::poll_invalidations() { return impl_->poll(); }
TeamStore::FetchResult PostgresTeamStore::check() { return impl_->check(); }
uint64_t PostgresTeamStore::query_count() const { return impl_->queries(); }
bool PostgresTeamStore::connected() const { return impl_->connected(); }

}  // namespace warden
