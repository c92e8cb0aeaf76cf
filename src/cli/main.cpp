// warden: command-line entry point. Each subcommand's settings come from, in rising precedence,
// a config file (--config), WARDEN_* environment variables and flags.
#include "commands.hpp"
#include "layered_args.hpp"

#include <warden/log.hpp>

#include <algorithm>
#include <cstdlib>
#include <iostream>

int main(int argc, char** argv) {
    CLI::App app{"warden: resolves, verifies and routes product-analytics events from Kafka"};
    app.require_subcommand(1);
    // Every layer adds its values; the last one given wins.
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);

    std::vector<warden::cli::Command> commands = {
        warden::cli::add_run_command(app),
        warden::cli::add_demo_command(app),
        warden::cli::add_replay_command(app),
        warden::cli::add_process_command(app),
        warden::cli::add_mock_cluster_command(app),
    };

    try {
        std::vector<std::string> args(argv + 1, argv + argc);
        if (!args.empty()) {
            for (const auto& command : commands) {
                if (command.app->check_name(args.front())) {
                    std::vector<std::string> rest(args.begin() + 1, args.end());
                    args = warden::cli::layered_arguments(*command.app, rest, [](const char* n) { return std::getenv(n); });
                    args.insert(args.begin(), command.app->get_name());
                    break;
                }
            }
        }
        std::reverse(args.begin(), args.end());  // CLI11 takes a vector last argument first
        app.parse(args);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        return code == 0 ? 0 : 2;
    }
    for (const auto& command : commands) {
        if (!command.app->parsed()) continue;
        try {
            return command.run();
        } catch (const std::exception& e) {
            // Error texts can quote what a library was given: credentials never go out.
            std::cerr << "warden " << command.app->get_name() << ": " << warden::log::redact(e.what()) << std::endl;
            return 1;
        }
    }
    return 2;
}
