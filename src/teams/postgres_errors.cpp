#include "postgres_errors.hpp"

#include "postgres_conninfo.hpp"

#include <warden/log.hpp>

#include <algorithm>

namespace warden::postgres {
namespace {

bool sqlstate_char(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'); }

bool starts_with(std::string_view text, std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; }

// Lines libpq adds around the message proper: where in the server's source it was raised, and
// the statement with a caret under the error position.
bool locating_line(std::string_view line) {
    if (starts_with(line, "LOCATION:") || starts_with(line, "LINE ") || starts_with(line, "QUERY:") ||
        starts_with(line, "STATEMENT:")) {
        return true;
    }
    return line.find_first_not_of(" ^") == std::string_view::npos;  // the caret line (or a blank one)
}

// A setting libpq refused before it talked to any server (an unknown sslmode, a port that is not
// a number, host and port lists of different lengths).
bool refused_setting(std::string_view text) {
    return text.find("connection to server") == std::string_view::npos &&
           (starts_with(text, "invalid ") || starts_with(text, "could not match "));
}

}  // namespace

StoreFailure failure_of_sqlstate(std::string_view code) {
    if (code.size() != 5) return StoreFailure::transient;
    const std::string_view cls = code.substr(0, 2);
    if (cls == "28" || cls == "42" || code == "3D000" || code == "3F000" || code == "0A000")
        return StoreFailure::permanent;
    return StoreFailure::transient;
}

std::vector<std::string> sqlstates_in(std::string_view text) {
    // pqBuildErrorMessage3 writes "<severity>:  <sqlstate>: <message>" in verbose mode.
    std::vector<std::string> codes;
    for (size_t at = text.find(":  "); at != std::string_view::npos; at = text.find(":  ", at + 1)) {
        const std::string_view code = text.substr(at + 3, 5);
        if (code.size() == 5 && std::all_of(code.begin(), code.end(), sqlstate_char) &&
            text.substr(at + 8, 2) == ": ") {
            codes.emplace_back(code);
        }
    }
    return codes;
}

std::string one_line(std::string_view text) {
    std::string out;
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view line = text.substr(start, end - start);
        start = end + 1;
        if (locating_line(line)) continue;
        for (char c : line) {
            const bool space = c == '\t' || c == ' ' || c == '\r';
            if (space && (out.empty() || out.back() == ' ')) continue;
            out += space ? ' ' : c;
        }
        if (!out.empty() && out.back() != ' ') out += ' ';
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return log::redact(out);
}

Failure connection_failure(std::string_view text, bool needed_password, const ConnectionSettings& settings) {
    const std::string said = one_line(text);
    const std::string conninfo(settings.conninfo);
    const std::string password_sources =
        std::string(settings.password_file) + ", PGPASSWORD, ~/.pgpass or the password in " + conninfo;
    if (needed_password) {
        return {StoreFailure::permanent, "PostgreSQL asks for a password and none was given (" + said +
                                             "): give one through " + password_sources};
    }
    for (const std::string& code : sqlstates_in(text)) {
        if (failure_of_sqlstate(code) != StoreFailure::permanent) continue;
        if (starts_with(code, "28")) {
            return {StoreFailure::permanent, "PostgreSQL refused the login (" + said + "): check the user in " +
                                                 conninfo + " and its password (" + password_sources +
                                                 "), and the server's pg_hba.conf"};
        }
        if (code == "3D000") {
            return {StoreFailure::permanent,
                    "the database named in " + conninfo + " does not exist (" + said + "): check its dbname"};
        }
        if (code == "42501") {
            return {StoreFailure::permanent, "the user in " + conninfo + " may not connect to that database (" + said +
                                                 "): grant it CONNECT on the database"};
        }
        return {StoreFailure::permanent, "PostgreSQL refused the connection (" + said + "): check " + conninfo};
    }
    if (refused_setting(text)) {
        return {StoreFailure::permanent,
                conninfo + " has a setting libpq refuses (" + hide_quoted_values(said) + "): correct it"};
    }
    return {StoreFailure::transient, "PostgreSQL is unreachable (" + said + ")"};
}

Failure statement_failure(const PGconn* conn, const PGresult* result, std::string_view what) {
    const char* text = result ? PQresultErrorMessage(result) : nullptr;
    if (!text || !*text) text = conn ? PQerrorMessage(conn) : "out of memory";
    const std::string said = one_line(text);
    std::string code;
    if (const char* field = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr) {
        code = field;
    } else if (const std::vector<std::string> codes = sqlstates_in(text); !codes.empty()) {
        code = codes.front();
    }
    if (failure_of_sqlstate(code) != StoreFailure::permanent) {
        return {StoreFailure::transient, std::string(what) + " failed (" + said + ")"};
    }
    if (code == "42P01" || code == "3F000") {
        return {StoreFailure::permanent,
                "a table warden reads does not exist (" + said +
                    "): check --postgres-table (default posthog_team), --postgres-key-table (default "
                    "posthog_projectsecretapikey; empty: no project keys) and the database in --postgres; "
                    "deploy/sql/001_schema.sql and 004_project_secret_api_keys.sql create them"};
    }
    if (code == "42703") {
        return {StoreFailure::permanent, "the team table lacks a column warden reads (" + said +
                                             "): --postgres-table must name a table shaped like posthog_team "
                                             "(deploy/sql/001_schema.sql)"};
    }
    if (code == "42501") {
        return {StoreFailure::permanent, "the user in --postgres may not read a table warden reads (" + said +
                                             "): grant it SELECT on the columns of deploy/sql/003_reader_role.sql and "
                                             "004_project_secret_api_keys.sql"};
    }
    return {StoreFailure::permanent,
            "PostgreSQL refuses " + std::string(what) + " (" + said + "): check --postgres and --postgres-table"};
}

}  // namespace warden::postgres
