// libpq handles and a connection that reopens itself with backoff, for the PostgreSQL team store.
#pragma once

#include "postgres_errors.hpp"

#include <warden/retry_policy.hpp>
#include <warden/teams.hpp>

#include <libpq-fe.h>

#include <memory>
#include <string>

namespace warden::postgres {

struct Deleter {
    void operator()(PGconn* conn) const { PQfinish(conn); }
    void operator()(PGresult* result) const { PQclear(result); }
    void operator()(PGnotify* notify) const { PQfreemem(notify); }
};
using ConnectionPtr = std::unique_ptr<PGconn, Deleter>;
using ResultPtr = std::unique_ptr<PGresult, Deleter>;
using NotifyPtr = std::unique_ptr<PGnotify, Deleter>;

// A name that can go into a statement's text as it is: lower-case letters, digits, '_' and '.'
// (schema.table), not starting with a digit or a dot, at most 63 characters.
bool plain_identifier(const std::string& name);

// A connection that is reopened with exponential backoff when it fails. Its errors are verbose so
// that each carries its SQLSTATE, which is what tells a refused login from an outage.
class Reconnecting {
public:
    // `settings` name the options its failures tell the operator to check.
    Reconnecting(const PostgresStoreOptions& options, std::string role, ConnectionSettings settings = {});

    // The open connection, or null while down (a reconnect is tried when the backoff allows;
    // failure() says why it is down). `reopened` is set when this call opened a new connection.
    PGconn* get(bool& reopened);

    // Closes the connection after a failure; the next get() reconnects once the backoff allows.
    void drop(Failure why);

    // A statement succeeded on the connection: the outage (if any) is over. Until then a
    // connection that opens but cannot serve (a revoked grant, a missing table) keeps backing off
    // and is not announced again at every attempt.
    void healthy();

    bool up() const { return conn_ && PQstatus(conn_.get()) == CONNECTION_OK; }
    const Failure& failure() const { return failure_; }

private:
    ConnectionPtr open();
    void announce() const;

    const PostgresStoreOptions& options_;
    std::string role_;
    ConnectionSettings settings_;
    ConnectionPtr conn_;
    RetryPolicy retry_;
    RetryPolicy::Clock::time_point next_attempt_{};
    Failure failure_{StoreFailure::transient, "not connected yet"};
};

}  // namespace warden::postgres
