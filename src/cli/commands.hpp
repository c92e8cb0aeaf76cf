// The subcommands of the warden command; each registers its flags and returns how to run it.
#pragma once

#include "layered_args.hpp"
#include "option_checks.hpp"
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
};

Command add_process_command(CLI::App& root);
Command add_run_command(CLI::App& root);
Command add_demo_command(CLI::App& root);
Command add_mock_cluster_command(CLI::App& root);
Command add_replay_command(CLI::App& root);

// --analytics-topic, --error-tracking-topic, --heatmaps-topic, --dlq-topic (WARDEN_*_TOPIC).
void add_topic_options(CLI::App& cmd, TopicNames& topics);

// --max-message-bytes, at least CoreLimits::min_message_bytes; `envname` when it has a variable.
void add_max_message_bytes_option(CLI::App& cmd, CoreLimits& limits, const char* envname = nullptr);

}  // namespace warden::cli
