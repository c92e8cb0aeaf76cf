// The subcommands of the warden command; each registers its flags and returns how to run it.
#pragma once

#include "layered_args.hpp"
#include "option_checks.hpp"
#include "shared_options.hpp"
#include "stop_signals.hpp"

#include <warden/core.hpp>

#include <CLI/CLI.hpp>

#include <functional>

namespace warden::cli {

struct Command {
    CLI::App* app = nullptr;
    std::function<int()> run;  // the exit code
    // SIGINT/SIGTERM ask it to stop (see install_stop_signals) instead of ending the process.
    bool stops_on_signal = false;
    // --log-level when not given (every command takes it: see WardenCli).
    std::string default_log_level = "info";
    // The command word this one comes after, as in `warden dlq inspect`; empty for a top-level one.
    std::string group{};
    // Receives where each setting came from (see layered_arguments), for commands that show it.
    SettingOrigins* origins = nullptr;
};

Command add_process_command(CLI::App& root);
Command add_run_command(CLI::App& root);
Command add_demo_command(CLI::App& root);
Command add_mock_cluster_command(CLI::App& root);
Command add_replay_command(CLI::App& root);
Command add_loadgen_command(CLI::App& root);
Command add_produce_command(CLI::App& root);
Command add_check_command(CLI::App& root);
// `warden dlq`, the group of the dead-letter commands, and its commands.
CLI::App& add_dlq_group(CLI::App& root);
Command add_dlq_inspect_command(CLI::App& dlq);
Command add_dlq_redrive_command(CLI::App& dlq);
// `warden admin`, the group of the signed admin requests, and its commands.
CLI::App& add_admin_group(CLI::App& root);
Command add_admin_invalidate_command(CLI::App& admin);
Command add_admin_flush_command(CLI::App& admin);

// `run` or, for a command in a group, `dlq inspect`.
std::string full_name(const Command& command);

}  // namespace warden::cli
