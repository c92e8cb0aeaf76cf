// Configuration layers of a subcommand: a config file, then environment variables, then flags.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace warden::cli {

using GetEnv = std::function<const char*(const char*)>;

// Reads a config file: one `name = value` per line, names being the subcommand's long option
// names without dashes; `#` starts a comment; a name may repeat for repeatable options. Returns
// the lines as `--name=value` arguments. Throws CLI::FileError / CLI::ValidationError naming the
// file and line.
std::vector<std::string> config_file_arguments(const CLI::App& command, const std::string& path);

// The arguments of `command` in rising precedence: the config file named by `--config` (or the
// WARDEN_CONFIG variable), then every option's environment variable, then `command_line`. With
// options taking their last value, flags win over the environment, which wins over the file.
std::vector<std::string> layered_arguments(const CLI::App& command, const std::vector<std::string>& command_line,
                                           const GetEnv& getenv);

}  // namespace warden::cli
