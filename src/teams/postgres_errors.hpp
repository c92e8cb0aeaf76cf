// What PostgreSQL's errors mean for the team store: transient or permanent, and what to tell the
// operator. Error texts are libpq's as warden asks for them (verbose, English: warden never sets
// a locale, so libpq's own words are not translated; the server's may be, which is why the
// classification goes by SQLSTATE).
#pragma once

#include <warden/teams.hpp>

#include <libpq-fe.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace warden::postgres {

// A failed connection or statement: whether waiting can help, and the message for logs, errors and
// readiness (what failed and what to do; registered credentials already redacted).
struct Failure {
    StoreFailure kind = StoreFailure::transient;
    std::string message;
};

// Permanent: class 28 (invalid authorization), 3D000 (no such database), 3F000 (no such schema),
// class 42 (undefined table or column, insufficient privilege, …), 0A000 (feature not supported).
// Everything else, including classes 08, 53, 57 and an unknown code, is transient.
StoreFailure failure_of_sqlstate(std::string_view code);

// The SQLSTATEs in a verbose libpq error text ("FATAL:  28P01: password authentication …"); a
// failed connection has no result to ask, and several hosts may each have answered.
std::vector<std::string> sqlstates_in(std::string_view verbose_text);

// A libpq error text on one line, without the lines that locate it in the server's source or
// quote the statement, and with registered credentials redacted.
std::string one_line(std::string_view libpq_text);

// The options a connection's failures tell the operator to check.
struct ConnectionSettings {
    std::string_view conninfo = "--postgres";
    std::string_view password_file = "--postgres-password-file";
};

// Why a connection attempt failed. `text` is PQerrorMessage of the attempt (made verbose).
Failure connection_failure(std::string_view text, bool needed_password, const ConnectionSettings& settings = {});

// Why a statement failed: the lookup's SET, PREPARE, the lookup itself or LISTEN (`what` names it
// in the message). `result` may be null (the statement's result was not kept, or the connection
// broke); the connection's error text is used then.
Failure statement_failure(const PGconn* conn, const PGresult* result, std::string_view what = "the team lookup");

}  // namespace warden::postgres
