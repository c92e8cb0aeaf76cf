// The warden command line: the subcommands, `help`, `--version`, configuration layering and the
// exit statuses (0 done, 1 runtime failure, 2 wrong usage).
#pragma once

#include "commands.hpp"
#include "layered_args.hpp"

#include <CLI/CLI.hpp>

#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace warden::cli {

class WardenCli {
public:
    WardenCli();
    ~WardenCli() = default;
    WardenCli(const WardenCli&) = delete;
    WardenCli& operator=(const WardenCli&) = delete;

    // Parses `args` (without the program name) over the config file and environment layers.
    // Returns the exit status when parsing is all there is to do (help and version on `out`,
    // usage errors on `err`), or nothing when a command is ready to run.
    std::optional<int> parse(const std::vector<std::string>& args, const GetEnv& getenv, std::ostream& out,
                             std::ostream& err);

    // Runs the parsed command and returns its exit status; failures are printed on `err`.
    int run(std::ostream& err);

    CLI::App& app() { return app_; }

private:
    // The command the arguments start with (one word, or two for a command in a group).
    const Command* command_named(const std::vector<std::string>& words) const;
    const Command* parsed_command() const;
    int print_help(std::ostream& out, std::ostream& err) const;
    std::string usage_error_text(const CLI::ParseError& error) const;

    CLI::App app_;
    std::vector<Command> commands_;
    std::vector<std::string> log_levels_;  // --log-level of each command, in commands_ order
    CLI::App* help_ = nullptr;
    std::vector<std::string> help_topic_;  // a command's words
};

}  // namespace warden::cli
