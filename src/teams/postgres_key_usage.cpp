// The last use of project secret API keys, written to PostgreSQL by a role of its own.
#include "postgres_connection.hpp"
#include "postgres_conninfo.hpp"
#include "postgres_errors.hpp"

#include <warden/key_usage.hpp>

#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <utility>

namespace warden {
namespace {

using postgres::ResultPtr;

constexpr const char* usage_statement = "warden_key_usage";
constexpr std::string_view writing = "the write of keys' last use";
constexpr postgres::ConnectionSettings usage_settings{"--project-key-usage-postgres",
                                                      "--project-key-usage-password-file"};

// A statement's failure, with the advice that fits this writer's role: the lookup's would name
// the reader's options and grants.
postgres::Failure write_failure(const PGconn* conn, const PGresult* result) {
    postgres::Failure failure = postgres::statement_failure(conn, result, writing);
    if (failure.kind == StoreFailure::permanent) {
        const char* text = result ? PQresultErrorMessage(result) : nullptr;
        failure.message = "PostgreSQL refuses " + std::string(writing) + " (" +
                          postgres::one_line(text && *text ? text : PQerrorMessage(conn)) +
                          "): check --postgres-key-table and grant the user in --project-key-usage-postgres "
                          "the privileges of deploy/sql/005_key_usage_role.sql";
    }
    return failure;
}

class PostgresKeyUsage {
public:
    PostgresKeyUsage(PostgresStoreOptions options, std::chrono::milliseconds interval)
        : options_(std::move(options)),
          connection_(options_, "key usage", usage_settings),
          interval_ms_(std::to_string(interval.count())) {
        register_postgres_credentials(options_);
        if (auto problem = postgres::conninfo_problem(options_.conninfo, usage_settings.conninfo))
            throw std::invalid_argument(*problem);
        if (!postgres::plain_identifier(options_.key_table)) {
            throw std::invalid_argument("invalid --postgres-key-table " + options_.key_table +
                                        ": the key usage writer needs the table of project secret API keys");
        }
    }

    KeyUsageWrite write(std::span<const TokenDigest> keys) {
        bool reopened = false;
        PGconn* conn = connection_.get(reopened);
        if (!conn) return failed(connection_.failure());
        if (reopened && !prepare(conn)) {
            postgres::Failure failure = write_failure(conn, nullptr);
            connection_.drop(failure);
            return failed(failure);
        }
        // The keys as the table keeps them: "sha256$" and 64 hex digits, nothing to escape.
        std::string hashes = "{";
        for (const TokenDigest& key : keys) {
            if (hashes.size() > 1) hashes += ',';
            hashes += "sha256$" + key.hex();
        }
        hashes += '}';
        const char* params[] = {hashes.c_str(), interval_ms_.c_str()};
        ResultPtr r(PQexecPrepared(conn, usage_statement, 2, params, nullptr, nullptr, 0));
        if (!r || PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
            postgres::Failure failure = write_failure(conn, r.get());
            if (PQstatus(conn) != CONNECTION_OK || failure.kind == StoreFailure::permanent) connection_.drop(failure);
            return failed(failure);
        }
        connection_.healthy();
        return {true, std::strtoull(PQcmdTuples(r.get()), nullptr, 10), {}};
    }

private:
    static KeyUsageWrite failed(const postgres::Failure& failure) { return {false, 0, failure.message}; }

    bool prepare(PGconn* conn) {
        const std::string timeout = "SET statement_timeout = " + std::to_string(options_.query_timeout.count());
        ResultPtr set(PQexec(conn, timeout.c_str()));
        if (!set || PQresultStatus(set.get()) != PGRES_COMMAND_OK) return false;
        // The condition on last_used_at keeps a fleet of workers to one write per key per interval:
        // a second worker's UPDATE waits for the first's row lock, then finds the row recent.
        const std::string sql = "UPDATE " + options_.key_table +
                                " AS key SET last_used_at = now() FROM unnest($1::text[]) AS used(secure_value)"
                                " WHERE key.secure_value = used.secure_value AND (key.last_used_at IS NULL OR"
                                " key.last_used_at <= now() - $2::bigint * interval '1 millisecond')";
        const Oid types[] = {1009 /* text[] */, 20 /* bigint */};
        ResultPtr r(PQprepare(conn, usage_statement, sql.c_str(), 2, types));
        return r && PQresultStatus(r.get()) == PGRES_COMMAND_OK;
    }

    const PostgresStoreOptions options_;
    postgres::Reconnecting connection_;
    const std::string interval_ms_;
};

}  // namespace

KeyUsageRecorder::Writer postgres_key_usage_writer(const PostgresStoreOptions& options,
                                                   std::chrono::milliseconds interval) {
    auto writer = std::make_shared<PostgresKeyUsage>(options, interval);
    return [writer](std::span<const TokenDigest> keys) { return writer->write(keys); };
}

}  // namespace warden
