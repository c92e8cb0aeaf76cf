// Wrong usage of the warden command (a bad flag, setting or combination): exit status 2, and a
// message that names what was wrong and never quotes a value, since values may be credentials.
#pragma once

#include <CLI/CLI.hpp>

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace warden::cli {

// Exit statuses of every subcommand.
constexpr int exit_ok = 0;
constexpr int exit_failure = 1;  // a runtime failure: unreachable or unreadable things, a fatal client error
constexpr int exit_usage = 2;    // a bad flag, config file, environment variable or range

// Thrown for wrong usage found outside CLI11's own parsing (config files, environment variables,
// options that must agree with each other). The message is printed as is.
class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The name in `candidates` closest to `wanted` (case-insensitive edit distance), or empty when
// none is close enough to be a plausible typo.
std::string closest_name(std::string_view wanted, const std::vector<std::string>& candidates);

// Whether an unknown name given where a known one belongs (a command, a config file key) may be
// quoted back: only a plausible typo of a known name, made of name characters. Anything else may
// be a credential pasted at the wrong place, so it is never shown.
bool may_quote_unknown_name(std::string_view name, const std::vector<std::string>& known);

// "warden run" for the run subcommand, "warden" for the root.
std::string command_path(const CLI::App& command);

// The long option names of `command` without dashes, e.g. "brokers".
std::vector<std::string> long_option_names(const CLI::App& command);

// A one-line explanation of arguments CLI11 could not place (`extras`, as from
// CLI::App::remaining()), e.g. "unknown option --brokerz for `warden run`; did you mean --brokers?".
// Only option names are quoted, never the values that follow them.
std::string unplaced_arguments_message(const CLI::App& command, const std::vector<std::string>& extras);

// "unknown command 'rn'; did you mean run?". The word is quoted only under may_quote_unknown_name:
// a first argument could be anything, a password pasted at the wrong place included.
std::string unknown_command_message(const std::string& word, const std::vector<std::string>& commands);

// CLI11's message for `error`, reworded where it would quote a value or read awkwardly.
std::string parse_error_message(const CLI::ParseError& error);

}  // namespace warden::cli
