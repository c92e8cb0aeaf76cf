// PostgreSQL team store: batched lookups over libpq, with a LISTEN connection for rotations.
#include <warden/log.hpp>
#include <warden/teams.hpp>

#include <libpq-fe.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <stdexcept>
#include <sys/select.h>

namespace warden {
namespace {

using Clock = std::chrono::steady_clock;

struct PgDeleter {
    void operator()(PGconn* conn) const { PQfinish(conn); }
    void operator()(PGresult* result) const { PQclear(result); }
    void operator()(PGnotify* notify) const { PQfreemem(notify); }
};
using ConnectionPtr = std::unique_ptr<PGconn, PgDeleter>;
using ResultPtr = std::unique_ptr<PGresult, PgDeleter>;
using NotifyPtr = std::unique_ptr<PGnotify, PgDeleter>;

constexpr const char* fetch_statement = "warden_fetch_teams";

bool plain_identifier(const std::string& name) {
    if (name.empty() || name.size() > 63) return false;
    for (size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool ok = (c >= 'a' && c <= 'z') || c == '_' || (i > 0 && ((c >= '0' && c <= '9') || c == '.'));
        if (!ok) return false;
    }
    return true;
}

// The tokens as one text[] literal: each element quoted, with '"' and '\' escaped, so no token
// can change the array's shape (the value is a bound parameter, never part of the SQL text).
std::string text_array_literal(std::span<const std::string> tokens) {
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

// A single-line error text without the trailing newline libpq adds.
std::string pg_error(const PGconn* conn) {
    std::string text = conn ? PQerrorMessage(conn) : "out of memory";
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    std::string out;
    for (char c : text) {
        const bool space = c == '\n' || c == '\t' || c == ' ';
        if (space && (out.empty() || out.back() == ' ')) continue;
        out += space ? ' ' : c;
    }
    return out;
}

std::optional<std::string> optional_text(const PGresult* r, int row, int col) {
    if (PQgetisnull(r, row, col)) return std::nullopt;
    return std::string(PQgetvalue(r, row, col), static_cast<size_t>(PQgetlength(r, row, col)));
}

// A connection that is reopened with exponential backoff when it fails.
class Reconnecting {
public:
    Reconnecting(const PostgresStoreOptions& options, std::string role) : options_(options), role_(std::move(role)) {}

    // The open connection, or null while down (a reconnect is tried when the backoff allows).
    // `reopened` is set when this call opened a new connection.
    PGconn* get(bool& reopened) {
        reopened = false;
        if (conn_ && PQstatus(conn_.get()) == CONNECTION_OK) return conn_.get();
        const auto now = Clock::now();
        if (now < next_attempt_) return nullptr;
        conn_ = open();
        if (conn_) {
            backoff_ = options_.min_backoff;
            reopened = true;
            log::info("postgres connected", {{"connection", role_}, {"host", PQhost(conn_.get())},
                                              {"port", PQport(conn_.get())}, {"database", PQdb(conn_.get())}});
            return conn_.get();
        }
        next_attempt_ = now + backoff_;
        backoff_ = std::min(backoff_ * 2, options_.max_backoff);
        return nullptr;
    }

    void drop(const std::string& why) {
        if (conn_) log::warn("postgres connection lost; reconnecting with backoff", {{"connection", role_}, {"error", why}});
        conn_.reset();
        next_attempt_ = Clock::now() + backoff_;
        backoff_ = std::min(backoff_ * 2, options_.max_backoff);
    }

    bool up() const { return conn_ && PQstatus(conn_.get()) == CONNECTION_OK; }
    const std::string& last_error() const { return last_error_; }

private:
    ConnectionPtr open() {
        const std::string timeout = std::to_string(std::max<int64_t>(1, options_.connect_timeout.count() / 1000));
        // dbname is expanded as a connection string; the keywords after it override its values.
        std::vector<const char*> keys = {"dbname", "connect_timeout", "application_name"};
        std::vector<const char*> values = {options_.conninfo.c_str(), timeout.c_str(), "warden"};
        if (!options_.password.empty()) {
            keys.push_back("password");
            values.push_back(options_.password.c_str());
        }
        keys.push_back(nullptr);
        values.push_back(nullptr);
        ConnectionPtr conn(PQconnectdbParams(keys.data(), values.data(), 1));
        if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
            const std::string error = pg_error(conn.get());
            if (error != last_error_) log::warn("postgres connect failed", {{"connection", role_}, {"error", error}});
            last_error_ = error;
            return nullptr;
        }
        last_error_.clear();
        // Server notices (e.g. "terminating connection") go to the JSON log, not raw stderr.
        PQsetNoticeProcessor(conn.get(), [](void*, const char* message) {
            std::string text = message;
            while (!text.empty() && text.back() == '\n') text.pop_back();
            log::info("postgres notice", {{"notice", text}});
        }, nullptr);
        return conn;
    }

    const PostgresStoreOptions& options_;
    std::string role_;
    ConnectionPtr conn_;
    std::chrono::milliseconds backoff_{options_.min_backoff};
    Clock::time_point next_attempt_{};
    std::string last_error_;
};

}  // namespace

class PostgresTeamStore::Impl {
public:
    explicit Impl(PostgresStoreOptions options)
        : options_(std::move(options)), lookup_(options_, "lookup"), listener_(options_, "listener") {
        if (!plain_identifier(options_.table)) throw std::invalid_argument("invalid table name: " + options_.table);
        if (!plain_identifier(options_.channel)) throw std::invalid_argument("invalid channel name: " + options_.channel);
    }

    FetchResult fetch(const TeamQuery& query) {
        FetchResult result;
        // Listen before loading rows, so no change to a row we cache can go unheard.
        start_listening();
        // Stored tokens are printable ASCII; anything else cannot match, and text that is not
        // valid in the database encoding would fail the whole query (and the batch with it).
        matchable_.clear();
        for (const std::string& t : query.tokens) {
            if (std::all_of(t.begin(), t.end(), [](char c) { return c > 0x20 && c < 0x7f; })) matchable_.push_back(t);
        }
        if (matchable_.empty() && query.team_ids.empty()) return result;
        bool reopened = false;
        PGconn* conn = lookup_.get(reopened);
        if (!conn) {
            result.error = "postgres unavailable: " + (lookup_.last_error().empty() ? "reconnect pending" : lookup_.last_error());
            return result;
        }
        if (reopened && !prepare(conn)) {
            result.error = "postgres: cannot prepare the lookup: " + pg_error(conn);
            lookup_.drop(*result.error);
            return result;
        }
        const std::string tokens = text_array_literal(matchable_);
        const std::string ids = id_array_literal(query.team_ids);
        const char* params[] = {tokens.c_str(), ids.c_str()};
        ++queries_;
        ResultPtr r(PQexecPrepared(conn, fetch_statement, 2, params, nullptr, nullptr, 0));
        if (!r || PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
            result.error = "postgres lookup failed: " + pg_error(conn);
            if (PQstatus(conn) != CONNECTION_OK) lookup_.drop(*result.error);
            return result;
        }
        for (int row = 0; row < PQntuples(r.get()); ++row) result.teams.push_back(team_of(r.get(), row));
        loaded_rows_ = true;
        return result;
    }

    Invalidations poll() {
        Invalidations changes;
        PGconn* conn = start_listening();
        changes.everything = std::exchange(missed_changes_, false);
        if (!conn) return changes;
        if (!PQconsumeInput(conn)) {
            listener_.drop(pg_error(conn));
            missed_changes_ = loaded_rows_;  // flushed again once the listener is back
            return changes;
        }
        while (NotifyPtr n{PQnotifies(conn)}) {
            char* end = nullptr;
            const long long id = std::strtoll(n->extra, &end, 10);
            if (end != n->extra && *end == '\0') {
                changes.team_ids.push_back(id);
            } else {
                changes.everything = true;  // an unexpected payload: be safe
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
            listener_.drop(pg_error(conn));
            return nullptr;
        }
        // Rows loaded while nobody listened may have changed unheard: the cache starts over.
        if (loaded_rows_) missed_changes_ = true;
        return conn;
    }

    uint64_t queries() const { return queries_; }
    bool connected() const { return lookup_.up(); }

private:
    bool prepare(PGconn* conn) {
        const std::string timeout = "SET statement_timeout = " + std::to_string(options_.query_timeout.count());
        ResultPtr set(PQexec(conn, timeout.c_str()));
        if (!set || PQresultStatus(set.get()) != PGRES_COMMAND_OK) return false;
        // The rows matching the tokens or ids, then every row sharing a token with one of them
        // (the cache refuses a token more than one team owns). Both steps are index lookups:
        // `= ANY(array)` on the token columns' unique indexes and the primary key (a join with
        // the CTE instead would scan the whole table).
        const std::string& t = options_.table;
        const std::string sql =
            "WITH matched AS (SELECT id, api_token, secret_api_token, secret_api_token_backup FROM " + t +
            " WHERE api_token = ANY($1::text[]) OR secret_api_token = ANY($1::text[])"
            " OR secret_api_token_backup = ANY($1::text[]) OR id = ANY($2::bigint[])),"
            " owned AS (SELECT token::text FROM matched,"
            " LATERAL (VALUES (api_token), (secret_api_token), (secret_api_token_backup)) AS v(token)"
            " WHERE token IS NOT NULL AND token <> '')"
            " SELECT id, project_id, name, api_token, secret_api_token, secret_api_token_backup, anonymize_ips,"
            " heatmaps_opt_in FROM " + t +
            " WHERE id = ANY(ARRAY(SELECT id FROM matched)) OR api_token = ANY(ARRAY(SELECT token FROM owned))"
            " OR secret_api_token = ANY(ARRAY(SELECT token FROM owned))"
            " OR secret_api_token_backup = ANY(ARRAY(SELECT token FROM owned))";
        ResultPtr r(PQprepare(conn, fetch_statement, sql.c_str(), 2, nullptr));
        return r && PQresultStatus(r.get()) == PGRES_COMMAND_OK;
    }

    static Team team_of(const PGresult* r, int row) {
        Team t;
        t.id = std::strtoll(PQgetvalue(r, row, 0), nullptr, 10);
        t.project_id = std::strtoll(PQgetvalue(r, row, 1), nullptr, 10);
        t.name = PQgetvalue(r, row, 2);
        t.api_token = PQgetvalue(r, row, 3);
        t.secret_api_token = optional_text(r, row, 4);
        t.secret_api_token_backup = optional_text(r, row, 5);
        t.anonymize_ips = !PQgetisnull(r, row, 6) && PQgetvalue(r, row, 6)[0] == 't';
        if (!PQgetisnull(r, row, 7)) t.heatmaps_opt_in = PQgetvalue(r, row, 7)[0] == 't';
        return t;
    }

    PostgresStoreOptions options_;
    Reconnecting lookup_;
    Reconnecting listener_;
    bool loaded_rows_ = false;     // rows were handed to the cache
    bool missed_changes_ = false;  // to report as `everything` at the next poll
    std::vector<std::string> matchable_;
    uint64_t queries_ = 0;
};

PostgresTeamStore::PostgresTeamStore(PostgresStoreOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
PostgresTeamStore::~PostgresTeamStore() = default;

TeamStore::FetchResult PostgresTeamStore::fetch(const TeamQuery& query) { return impl_->fetch(query); }
TeamStore::Invalidations PostgresTeamStore::poll_invalidations() { return impl_->poll(); }
uint64_t PostgresTeamStore::query_count() const { return impl_->queries(); }
bool PostgresTeamStore::connected() const { return impl_->connected(); }

}  // namespace warden
