#include "postgres_connection.hpp"

#include <warden/log.hpp>

#include <algorithm>
#include <cerrno>
#include <poll.h>
#include <vector>

namespace warden::postgres {
namespace {

using Clock = RetryPolicy::Clock;

// Drives libpq's non-blocking connect until it succeeds or fails. False when `deadline` came
// first. (libpq's connect_timeout applies only to its blocking connect, not to this loop.)
bool finish_connecting(PGconn* conn, Clock::time_point deadline) {
    PostgresPollingStatusType state = PGRES_POLLING_WRITING;  // as libpq asks before the first poll
    while (state != PGRES_POLLING_OK && state != PGRES_POLLING_FAILED && PQstatus(conn) != CONNECTION_BAD) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) return false;
        pollfd socket{PQsocket(conn), static_cast<short>(state == PGRES_POLLING_READING ? POLLIN : POLLOUT), 0};
        const int ready = ::poll(&socket, 1, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
        if (ready < 0 && errno != EINTR) return true;  // libpq reports the broken socket on its next poll
        if (ready > 0) state = PQconnectPoll(conn);
    }
    return true;
}

}  // namespace

bool plain_identifier(const std::string& name) {
    if (name.empty() || name.size() > 63) return false;
    for (size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool ok = (c >= 'a' && c <= 'z') || c == '_' || (i > 0 && ((c >= '0' && c <= '9') || c == '.'));
        if (!ok) return false;
    }
    return true;
}

Reconnecting::Reconnecting(const PostgresStoreOptions& options, std::string role, ConnectionSettings settings)
    : options_(options),
      role_(std::move(role)),
      settings_(settings),
      retry_(RetryPolicy::Options::doubling(options.min_backoff, options.max_backoff)) {}

PGconn* Reconnecting::get(bool& reopened) {
    reopened = false;
    if (up()) return conn_.get();
    const auto now = Clock::now();
    if (now < next_attempt_) return nullptr;
    conn_ = open();
    if (conn_) {
        reopened = true;
        if (!retry_.failing()) announce();
        return conn_.get();
    }
    next_attempt_ = now + retry_.failed(now).value_or(options_.max_backoff);
    if (retry_.report_due(now, failure_.message)) {
        log::warn("postgres connect failed",
                  {{"connection", role_},
                   {"error", failure_.message},
                   {"kind", failure_.kind == StoreFailure::permanent ? "permanent" : "transient"}});
    }
    return nullptr;
}

void Reconnecting::drop(Failure why) {
    const auto now = Clock::now();
    if (conn_ && retry_.report_due(now, why.message)) {
        log::warn("postgres connection closed; reconnecting with backoff",
                  {{"connection", role_}, {"error", why.message}});
    }
    conn_.reset();
    failure_ = std::move(why);
    next_attempt_ = now + retry_.failed(now).value_or(options_.max_backoff);
}

void Reconnecting::healthy() {
    if (!retry_.failing()) return;
    retry_.succeeded();
    announce();
}

void Reconnecting::announce() const {
    log::info("postgres connected", {{"connection", role_},
                                     {"host", PQhost(conn_.get())},
                                     {"port", PQport(conn_.get())},
                                     {"database", PQdb(conn_.get())}});
}

ConnectionPtr Reconnecting::open() {
    // dbname is expanded as a connection string; the keywords after it override its values.
    std::vector<const char*> keys = {"dbname", "application_name"};
    std::vector<const char*> values = {options_.conninfo.c_str(), "warden"};
    if (!options_.password.empty()) {
        keys.push_back("password");
        values.push_back(options_.password.c_str());
    }
    keys.push_back(nullptr);
    values.push_back(nullptr);
    ConnectionPtr conn(PQconnectStartParams(keys.data(), values.data(), 1));
    if (!conn) {
        failure_ = {StoreFailure::transient, "cannot start a PostgreSQL connection: out of memory"};
        return nullptr;
    }
    PQsetErrorVerbosity(conn.get(), PQERRORS_VERBOSE);
    const bool finished = finish_connecting(conn.get(), Clock::now() + options_.connect_timeout);
    // A password found in ~/.pgpass is a credential too.
    if (const char* used = PQpass(conn.get())) log::add_sensitive_value(used);
    if (!finished) {
        failure_ = {StoreFailure::transient, "PostgreSQL did not complete the connection within " +
                                                 std::to_string(options_.connect_timeout.count()) + " ms"};
        return nullptr;
    }
    if (PQstatus(conn.get()) != CONNECTION_OK) {
        failure_ =
            connection_failure(PQerrorMessage(conn.get()), PQconnectionNeedsPassword(conn.get()) != 0, settings_);
        return nullptr;
    }
    // Server notices (e.g. "terminating connection") go to the JSON log, not raw stderr.
    PQsetNoticeProcessor(
        conn.get(),
        [](void*, const char* message) {
            log::info("postgres notice", {{"notice", one_line(message)}});
        },
        nullptr);
    return conn;
}

}  // namespace warden::postgres
