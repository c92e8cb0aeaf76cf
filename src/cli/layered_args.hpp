// Configuration layers of a subcommand: a config file, then environment variables, then flags.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace warden::cli {

using GetEnv = std::function<const char*(const char*)>;

// An environment variable that adds one value to a repeatable option: WARDEN_KAFKA_SASL_PASSWORD
// adds "sasl.password=<its value>" to --kafka-property.
struct EnvironmentValue {
    std::string variable;
    std::string option;  // long name without dashes
    std::string prefix;  // put before the variable's value
};

// Where each setting's value came from, by long option name: "FILE:LINE", "environment
// VARIABLE" or "flag". The last layer that sets an option wins, as it does for the value.
using SettingOrigins = std::map<std::string, std::string>;

// --config FILE: the subcommand's TOML config file (also WARDEN_CONFIG).
void add_config_option(CLI::App& command);

// The arguments of `command` in rising precedence: the config file named by `--config` (or the
// WARDEN_CONFIG variable; see read_config_file), then every option's environment variable and
// the `extra_environment` that apply to the command, then `command_line`. Single-valued options
// take their last value and repeatable ones apply theirs in order, so flags win over the
// environment, which wins over the file. An empty variable counts as unset.
//
// Values from the file and the environment are checked here with the options' own checks, so
// that an error names the file and line or the variable (never the value). With --help or -h on
// the command line nothing else is read: a broken config file must not hide the help.
// `origins`, when given, receives where each setting came from. Throws UsageError.
std::vector<std::string> layered_arguments(CLI::App& command, const std::vector<std::string>& command_line,
                                           const GetEnv& getenv,
                                           const std::vector<EnvironmentValue>& extra_environment = {},
                                           SettingOrigins* origins = nullptr);

}  // namespace warden::cli
