// The --postgres connection string: checked before use and searched for the forms its password
// can take, so that neither libpq's parse errors nor anything else can show the password.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace warden::postgres {

// Every form the password in `conninfo` can take in a message: the user-info of a URI and any
// `password=` value, each raw (as written, percent-encoded or quoted, which is how libpq quotes
// it) and decoded. Works on strings libpq cannot parse too; may return more than the password.
std::vector<std::string> password_forms(std::string_view conninfo);

// Why libpq cannot parse `conninfo`, in warden's words (which setting, what kind of problem, what
// to do) and never quoting it; nothing when it parses or is a bare database name. `setting` names
// the option it came from.
std::optional<std::string> conninfo_problem(const std::string& conninfo, std::string_view setting = "--postgres");

// `text` with every double-quoted value replaced by "…", except the names of libpq settings: for
// libpq's messages about settings, which quote the value they refuse.
std::string hide_quoted_values(std::string_view text);

}  // namespace warden::postgres
