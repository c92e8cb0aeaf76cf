// The config file of a subcommand: TOML whose top-level keys are the command's long option names
// without dashes, so `--help` documents the file too.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace warden::cli {

// One value the file gives an option, as the flag would take it.
struct ConfigSetting {
    const CLI::Option* option = nullptr;
    std::string name;   // the key, e.g. "batch-size"
    std::string value;  // e.g. "500"; a flag's is "true" or "false"
    int line = 0;
};

// Config files larger than this are refused: a real one is a few hundred bytes.
constexpr size_t max_config_file_bytes = 1 << 20;

// Reads `path` for `command`. Values: text in quotes, whole numbers and decimals for numeric
// options, true/false for switches (flags without a value), a time with a zone for times;
// repeatable options take a list of values (or a single one). Throws UsageError naming the file,
// the line and the setting, never a value: for a file that is missing, unreadable, a directory,
// too large or not TOML, an unknown key (with the closest known one), a duplicate key, a list or
// a table where one value belongs, or a value of the wrong kind.
std::vector<ConfigSetting> read_config_file(const CLI::App& command, const std::string& path);

}  // namespace warden::cli
