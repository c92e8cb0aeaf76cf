// What PostgreSQL's errors mean (transient or permanent) and how a connection string's password is
// kept out of every message. The same paths run against a real server in tests/postgres.
#include "support.hpp"

#include "postgres_conninfo.hpp"
#include "postgres_errors.hpp"

#include <warden/log.hpp>

#include <algorithm>

using namespace warden;
using namespace warden::postgres;

namespace {

bool has(const std::vector<std::string>& forms, const std::string& form) {
    return std::find(forms.begin(), forms.end(), form) != forms.end();
}

bool mentions(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("postgres errors: SQLSTATEs that waiting cannot fix are permanent") {
    for (const char* code : {"28P01", "28000", "3D000", "3F000", "42P01", "42703", "42501", "42601", "0A000"}) {
        CAPTURE(code);
        CHECK(failure_of_sqlstate(code) == StoreFailure::permanent);
    }
    for (const char* code :
         {"08006", "08001", "57P01", "57P03", "57014", "53300", "53100", "40001", "XX000", "", "2"}) {
        CAPTURE(code);
        CHECK(failure_of_sqlstate(code) == StoreFailure::transient);
    }
}

TEST_CASE("postgres errors: SQLSTATEs are found in verbose texts, one per host that answered") {
    const std::string two_hosts =
        "connection to server at \"10.0.0.1\", port 5432 failed: FATAL:  57P03: the database system is starting up\n"
        "LOCATION:  ProcessStartupPacket, postmaster.c:2390\n"
        "connection to server at \"10.0.0.2\", port 5432 failed: FATAL:  28P01: password authentication failed for "
        "user \"warden\"\nLOCATION:  auth_failed, auth.c:334\n";
    CHECK(sqlstates_in(two_hosts) == std::vector<std::string>{"57P03", "28P01"});
    CHECK(sqlstates_in("ERROR:  42P01: relation \"x\" does not exist\nLINE 1: SELECT 1 FROM x\n") ==
          std::vector<std::string>{"42P01"});
    CHECK(sqlstates_in("DETAIL:  User does not have CONNECT privilege.").empty());
    CHECK(sqlstates_in("FATAL:  28P0").empty());  // cut short: no read past the end
    CHECK(sqlstates_in("connection refused").empty());
}

TEST_CASE("postgres errors: one line without source locations or the statement") {
    CHECK(one_line("ERROR:  42P01: relation \"nope\" does not exist\nLINE 1: ...FROM nope WHERE\n"
                   "                                                   ^\nLOCATION:  parserOpenTable, "
                   "parse_relation.c:1392\n") == "ERROR: 42P01: relation \"nope\" does not exist");
    CHECK(one_line("FATAL:  42501: permission denied for database \"warden\"\nDETAIL:  User does not have CONNECT "
                   "privilege.\n") ==
          "FATAL: 42501: permission denied for database \"warden\" DETAIL: User does not have CONNECT privilege.");
}

TEST_CASE("postgres errors: a failed connection is classified by what the server said") {
    struct Case {
        std::string text;
        bool needed_password;
        StoreFailure kind;
        std::string mention;  // in the message
        std::string hidden;   // never in the message
    };
    const Case cases[] = {
        {"connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  28P01: password authentication failed for "
         "user \"warden_reader\"\nLOCATION:  auth_failed, auth.c:334\n",
         false, StoreFailure::permanent, "--postgres-password-file", "LOCATION"},
        {"connection to server at \"h\", port 5432 failed: fe_sendauth: no password supplied\n", true,
         StoreFailure::permanent, "none was given", ""},
        {"... failed: FATAL:  3D000: database \"nope\" does not exist\n", false, StoreFailure::permanent, "dbname", ""},
        {"... failed: FATAL:  42501: permission denied for database \"w\"\n", false, StoreFailure::permanent, "CONNECT",
         ""},
        {"... failed: FATAL:  57P03: the database system is starting up\n", false, StoreFailure::transient,
         "unreachable", ""},
        {"connection to server at \"127.0.0.1\", port 1 failed: Connection refused\n\tIs the server running on that "
         "host "
         "and accepting TCP/IP connections?\n",
         false, StoreFailure::transient, "unreachable", ""},
        {"could not translate host name \"db\" to address: Temporary failure in name resolution\n", false,
         StoreFailure::transient, "db", ""},
        // Settings libpq refuses before contacting anyone: permanent, the refused value not repeated.
        {"invalid sslmode value: \"hunter2\"\n", false, StoreFailure::permanent, "sslmode", "hunter2"},
        {"invalid integer value \"x9\" for connection option \"port\"\n", false, StoreFailure::permanent, "\"port\"",
         "x9"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.text);
        const Failure f = connection_failure(c.text, c.needed_password);
        CAPTURE(f.message);
        CHECK(f.kind == c.kind);
        CHECK(mentions(f.message, c.mention));
        if (!c.hidden.empty()) CHECK_FALSE(mentions(f.message, c.hidden));
    }
}

TEST_CASE("postgres errors: a statement failure is classified by its SQLSTATE, with the setting to fix") {
    CHECK(statement_failure(nullptr, nullptr).kind == StoreFailure::transient);  // no connection: out of memory
}

TEST_CASE("conninfo: every form of the password is found, raw and decoded, even when libpq cannot parse it") {
    auto forms = password_forms("postgresql://reader:p%25w%20x@db.example:5432/posthog");
    CHECK(has(forms, "p%25w%20x"));  // as written, which is how libpq quotes it
    CHECK(has(forms, "p%w x"));      // as the server gets it
    forms = password_forms("postgresql://reader:pa%ss@db/posthog");
    CHECK(has(forms, "pa%ss"));
    forms = password_forms("postgresql://reader:ab%00cd@db/posthog");
    CHECK(has(forms, "ab%00cd"));
    forms = password_forms("postgresql://reader:with@at@db/posthog");  // a raw '@' in the password
    CHECK(has(forms, "with@at"));
    forms = password_forms("postgresql://reader@db/posthog?sslmode=require&password=q%26s&application_name=x");
    CHECK(has(forms, "q%26s"));
    CHECK(has(forms, "q&s"));
    forms = password_forms(R"(host=db password='it\'s a \\secret' user=reader)");
    CHECK(has(forms, R"(it\'s a \\secret)"));
    CHECK(has(forms, R"(it's a \secret)"));
    forms = password_forms("host=db password = plain user=reader");
    CHECK(has(forms, "plain"));
    forms = password_forms("host=db password='unterminated");
    CHECK(has(forms, "unterminated"));
    CHECK(password_forms("host=db user=reader").empty());
    CHECK(password_forms("posthog").empty());
}

TEST_CASE("conninfo: an unparseable string is named and explained, never quoted") {
    const std::string secret = "hunter%2";
    const auto problem = conninfo_problem("postgresql://reader:" + secret + "@db/posthog");
    REQUIRE(problem);
    CHECK(mentions(*problem, "--postgres"));
    CHECK(mentions(*problem, "%25"));
    CHECK_FALSE(mentions(*problem, "hunter"));
    const auto nul = conninfo_problem("postgresql://reader:ab%00cd@db/posthog");
    REQUIRE(nul);
    CHECK_FALSE(mentions(*nul, "ab%00cd"));
    const auto quote = conninfo_problem("host=db password='open");
    REQUIRE(quote);
    CHECK(mentions(*quote, "quote"));
    CHECK_FALSE(mentions(*quote, "open"));
    const auto spaces = conninfo_problem("host=db password=two words");
    REQUIRE(spaces);
    CHECK_FALSE(mentions(*spaces, "words"));
    CHECK_FALSE(conninfo_problem("host=db dbname=posthog user=reader"));
    CHECK_FALSE(conninfo_problem("postgresql://reader:p%25w@db:5432/posthog?sslmode=require"));
    CHECK_FALSE(conninfo_problem("posthog"));  // a bare database name
}

TEST_CASE("conninfo: quoted values of libpq messages are hidden, setting names kept") {
    CHECK(hide_quoted_values("invalid integer value \"secret\" for connection option \"port\"") ==
          "invalid integer value \"...\" for connection option \"port\"");
    CHECK(hide_quoted_values("a \"half") == "a \"half");
}

TEST_CASE("conninfo: a password that is part of the host name is redacted where the host is shown") {
    log::clear_sensitive_values();
    for (const std::string& form : password_forms("host=db-hunter2.internal password=hunter2"))
        log::add_sensitive_value(form);
    Failure f = connection_failure(
        "connection to server at \"db-hunter2.internal\" (10.0.0.5), port 5432 failed: FATAL:  28P01: password "
        "authentication failed for user \"reader\"\n",
        false);
    CHECK_FALSE(mentions(f.message, "hunter2"));
    CHECK(mentions(f.message, "db-[redacted].internal"));
    log::clear_sensitive_values();
}
