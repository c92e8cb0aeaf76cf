// `warden check`, the PostgreSQL side: the lookup `run` prepares, the role's privileges and the
// change notifications.
#include "postgres_connection.hpp"

#include <warden/dependency_checks.hpp>
#include <warden/log.hpp>

#include <libpq-fe.h>

#include <algorithm>
#include <array>

namespace warden {
namespace {

using postgres::ResultPtr;

// The columns the lookup reads (deploy/sql/003 grants exactly these).
constexpr std::array<const char*, 8> lookup_columns = {"id",
                                                       "project_id",
                                                       "name",
                                                       "api_token",
                                                       "secret_api_token",
                                                       "secret_api_token_backup",
                                                       "anonymize_ips",
                                                       "heatmaps_opt_in"};

std::string joined(const std::vector<std::string>& items) {
    std::string out;
    for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
    return out;
}

// Runs `sql` with text parameters; null with `error` set when it failed.
ResultPtr query(PGconn* conn, const std::string& sql, const std::vector<std::string>& params, std::string& error) {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const std::string& p : params) values.push_back(p.c_str());
    ResultPtr r(
        PQexecParams(conn, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr, nullptr, 0));
    if (!r || (PQresultStatus(r.get()) != PGRES_TUPLES_OK && PQresultStatus(r.get()) != PGRES_COMMAND_OK)) {
        error = postgres::statement_failure(conn, r.get(), "the check's query").message;
        return nullptr;
    }
    return r;
}

bool is_true(const PGresult* r, int row, int col) { return PQgetvalue(r, row, col)[0] == 't'; }

// A reader: no role attributes that reach beyond reading, no privilege that writes the table,
// SELECT on the lookup's columns and on no other column (a token table holds more than warden
// needs to see).
DependencyCheck role_check(PGconn* conn, const std::string& table) {
    DependencyCheck check{"team store role", false, {}};
    std::string error;
    ResultPtr role = query(conn,
                           "SELECT current_user, rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls,"
                           " has_table_privilege($1, 'INSERT'), has_table_privilege($1, 'UPDATE'),"
                           " has_table_privilege($1, 'DELETE'), has_table_privilege($1, 'TRUNCATE'),"
                           " has_table_privilege($1, 'TRIGGER'), has_table_privilege($1, 'REFERENCES')"
                           " FROM pg_roles WHERE rolname = current_user",
                           {table}, error);
    if (!role || PQntuples(role.get()) != 1) {
        check.detail = "cannot read the role's privileges: " + (role ? "the role is not in pg_roles" : error);
        return check;
    }
    static constexpr std::array<const char*, 11> what = {"SUPERUSER", "CREATEROLE", "CREATEDB",  "REPLICATION",
                                                         "BYPASSRLS", "INSERT",     "UPDATE",    "DELETE",
                                                         "TRUNCATE",  "TRIGGER",    "REFERENCES"};
    std::vector<std::string> excess;
    for (size_t i = 0; i < what.size(); ++i) {
        if (is_true(role.get(), 0, static_cast<int>(i) + 1)) excess.emplace_back(what[i]);
    }
    const std::string user = PQgetvalue(role.get(), 0, 0);
    ResultPtr columns = query(conn,
                              "SELECT attname, has_column_privilege($1, attname, 'SELECT') FROM pg_attribute"
                              " WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
                              {table}, error);
    if (!columns) {
        check.detail = "cannot read the table's columns: " + error;
        return check;
    }
    std::vector<std::string> extra_columns;
    std::vector<std::string> missing_columns;
    for (int row = 0; row < PQntuples(columns.get()); ++row) {
        const std::string name = PQgetvalue(columns.get(), row, 0);
        const bool needed = std::find(lookup_columns.begin(), lookup_columns.end(), name) != lookup_columns.end();
        const bool readable = is_true(columns.get(), row, 1);
        if (readable && !needed) extra_columns.push_back(name);
        if (!readable && needed) missing_columns.push_back(name);
    }
    if (!extra_columns.empty()) excess.push_back("SELECT on " + joined(extra_columns));
    if (!missing_columns.empty()) {
        check.detail = "role " + user + " cannot read " + joined(missing_columns) +
                       ": grant SELECT on the lookup's columns (deploy/sql/003_reader_role.sql)";
    } else if (!excess.empty()) {
        check.detail = "role " + user + " has more than it needs: " + joined(excess) +
                       "; run warden as a reader such as deploy/sql/003_reader_role.sql's warden_reader";
    } else {
        check.passed = true;
        check.detail = "role " + user + " reads the lookup's columns and nothing else";
    }
    return check;
}

// LISTEN works on the channel, and the triggers that notify it are on the table.
DependencyCheck notification_check(PGconn* conn, const PostgresStoreOptions& options) {
    DependencyCheck check{"team change notifications", false, {}};
    std::string error;
    if (!query(conn, "LISTEN " + options.channel, {}, error)) {
        check.detail = "LISTEN " + options.channel + " failed: " + error +
                       "; without it a rotated secret is honoured until the cache TTL passes";
        return check;
    }
    (void)query(conn, "UNLISTEN " + options.channel, {}, error);
    ResultPtr triggers = query(conn,
                               "SELECT tgname FROM pg_trigger WHERE tgrelid = $1::regclass AND NOT tgisinternal"
                               " AND tgname IN ('warden_team_change', 'warden_team_truncate') AND tgenabled <> 'D'",
                               {options.table}, error);
    if (!triggers) {
        check.detail = "cannot read the table's triggers: " + error;
    } else if (PQntuples(triggers.get()) != 2) {
        check.detail = "LISTEN " + options.channel + " works, but " + options.table +
                       " lacks the enabled triggers that notify it: apply deploy/sql/002_notify_team_change.sql, or "
                       "a rotated secret is honoured until the cache TTL passes";
    } else {
        check.passed = true;
        check.detail = "LISTEN " + options.channel + " works and both notification triggers are on " + options.table;
    }
    return check;
}

}  // namespace

std::vector<DependencyCheck> check_postgres_dependencies(const PostgresStoreOptions& options) {
    std::vector<DependencyCheck> checks;
    PostgresTeamStore store(options);  // registers every form of the password for redaction
    const TeamStore::FetchResult lookup = store.check();
    if (lookup.error) {
        checks.push_back(
            {"team lookup", false,
             log::redact(*lookup.error) + (lookup.failure == StoreFailure::permanent
                                               ? ""
                                               : " (a transient failure: is the database up and reachable?)")});
    } else {
        checks.push_back({"team lookup", true, "the prepared lookup of " + options.table + " answers"});
    }
    // A connection of its own: the lookup's is dropped after a permanent failure, and the role's
    // privileges say why the lookup was refused.
    postgres::Reconnecting connection(options, "check");
    bool reopened = false;
    PGconn* conn = connection.get(reopened);
    if (!conn) {
        // Already reported when the lookup could not connect either.
        if (!lookup.error)
            checks.push_back({"team store connection", false, log::redact(connection.failure().message)});
        return checks;
    }
    checks.push_back(role_check(conn, options.table));
    checks.push_back(notification_check(conn, options));
    return checks;
}

}  // namespace warden
