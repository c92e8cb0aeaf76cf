#include "warden_cli.hpp"

#include "kafka_client_args.hpp"
#include "usage.hpp"

#include <warden/build_info.hpp>
#include <warden/log.hpp>

#include <algorithm>

namespace warden::cli {
namespace {

constexpr const char* root_footer =
    "`warden help COMMAND` (or `warden COMMAND --help`) lists a command's settings. Each setting comes from, "
    "later ones winning: a TOML config file (--config FILE or WARDEN_CONFIG), environment variables, flags.\n"
    "Exit status: 0 done; 1 a failure while running (something unreachable or unreadable, a fatal Kafka "
    "error; for check, a dependency not ready; for admin, a request not accepted); 2 wrong usage (a bad flag, "
    "config file, environment variable or range); 3 replay, dlq inspect, dlq redrive, loadgen or produce "
    "interrupted.\n";

// "--brokers is required" with every way of giving the setting, since it may be missing from the
// layer the operator expected; empty when `required` is not about one option.
std::string ways_to_give(const CLI::App& command, const std::string& required) {
    const size_t end = required.find(" is required");
    if (!required.starts_with("--") || end == std::string::npos) return {};
    const CLI::Option* option = command.get_option_no_throw(required.substr(0, end));
    if (!option) return {};
    const std::string name = required.substr(2, end - 2);
    std::string ways = "--" + name + " is required: give the flag, `" + name + " = …` in the config file";
    if (!option->get_envname().empty()) ways += ", or " + option->get_envname();
    return ways;
}

std::string version_text() {
    const BuildInfo build = build_info();
    return "warden " + build.version + " (librdkafka " + build.librdkafka + ")";
}

}  // namespace

WardenCli::WardenCli() : app_("warden: resolves, verifies and routes product-analytics events from Kafka", "warden") {
    // Every layer adds its values; the last one given wins.
    app_.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    app_.set_version_flag("--version", version_text(), "Print warden's and librdkafka's versions and exit");
    app_.require_subcommand(1);
    app_.footer(root_footer);
    CLI::App& dlq = add_dlq_group(app_);
    CLI::App& admin = add_admin_group(app_);
    commands_ = {
        add_run_command(app_),
        add_demo_command(app_),
        add_replay_command(app_),
        add_process_command(app_),
        add_mock_cluster_command(app_),
        add_loadgen_command(app_),
        add_produce_command(app_),
        add_check_command(app_),
        add_dlq_inspect_command(dlq),
        add_dlq_redrive_command(dlq),
        add_admin_invalidate_command(admin),
        add_admin_flush_command(admin),
    };
    // Bound to the options by reference: sized once, never reallocated.
    log_levels_.resize(commands_.size());
    for (size_t i = 0; i < commands_.size(); ++i) {
        log_levels_[i] = commands_[i].default_log_level;
        add_log_level_option(*commands_[i].app, log_levels_[i]);
    }
    help_ = app_.add_subcommand("help", "Print the help of warden, or of a command: warden help run");
    help_->add_option("command", help_topic_, "The command to explain (two words for one in a group: dlq inspect)")
        ->expected(1, 2);
}

std::string full_name(const Command& command) {
    return command.group.empty() ? command.app->get_name() : command.group + " " + command.app->get_name();
}

const Command* WardenCli::command_named(const std::vector<std::string>& words) const {
    for (const Command& command : commands_) {
        if (command.group.empty()) {
            if (!words.empty() && command.app->check_name(words[0])) return &command;
        } else if (words.size() > 1 && words[0] == command.group && command.app->check_name(words[1])) {
            return &command;
        }
    }
    return nullptr;
}

const Command* WardenCli::parsed_command() const {
    for (const Command& command : commands_) {
        if (command.app->parsed()) return &command;
    }
    return nullptr;
}

std::optional<int> WardenCli::parse(const std::vector<std::string>& args, const GetEnv& getenv, std::ostream& out,
                                    std::ostream& err) {
    std::string prefix = "warden";
    try {
        std::vector<std::string> layered = args;
        if (const Command* command = command_named(args)) {
            prefix += " " + full_name(*command);
            const size_t words = command->group.empty() ? 1 : 2;
            const std::vector<std::string> rest(args.begin() + static_cast<std::ptrdiff_t>(words), args.end());
            layered = layered_arguments(*command->app, rest, getenv, kafka_environment_values(), command->origins);
            layered.insert(layered.begin(), args.begin(), args.begin() + static_cast<std::ptrdiff_t>(words));
        }
        std::reverse(layered.begin(), layered.end());  // CLI11 takes a vector last argument first
        app_.parse(layered);
    } catch (const CLI::CallForHelp&) {
        out << app_.help();
        return exit_ok;
    } catch (const CLI::CallForAllHelp&) {
        out << app_.help("", CLI::AppFormatMode::All);
        return exit_ok;
    } catch (const CLI::CallForVersion& e) {
        out << e.what() << '\n';
        return exit_ok;
    } catch (const CLI::ParseError& e) {
        const Command* command = parsed_command();
        const std::string where = command           ? "warden " + full_name(*command)
                                  : help_->parsed() ? "warden help"
                                                    : "warden";
        const std::string help = command ? "warden help " + full_name(*command) : "warden help";
        err << where << ": " << usage_error_text(e) << "\nRun `" << help << "` for the settings." << std::endl;
        return exit_usage;
    } catch (const UsageError& e) {
        err << prefix << ": " << e.what() << std::endl;
        return exit_usage;
    }
    if (help_->parsed()) return print_help(out, err);
    return std::nullopt;
}

std::string WardenCli::usage_error_text(const CLI::ParseError& error) const {
    const Command* command = parsed_command();
    if (!command && help_->parsed()) return "`warden help` takes one command name, such as `warden help run`";
    const auto has_option = [](const std::vector<std::string>& args) {
        return std::any_of(args.begin(), args.end(), [](const std::string& a) { return a.starts_with("-"); });
    };
    // An unknown option first: it is usually why a required one is missing. Stray words only
    // when nothing more precise was found, as they often are a value missing its option.
    const std::vector<std::string> root_extras = app_.remaining();
    const std::vector<std::string> extras = command ? command->app->remaining() : root_extras;
    if (command && has_option(root_extras)) {
        // `warden --brokers x run`: the option exists, in the wrong place.
        return unplaced_arguments_message(app_, root_extras) + "; options go after the command: `warden " +
               full_name(*command) + " --name value`";
    }
    const bool precise =
        !dynamic_cast<const CLI::RequiredError*>(&error) && !dynamic_cast<const CLI::ExtrasError*>(&error);
    if (has_option(extras) || (!extras.empty() && !precise)) {
        return unplaced_arguments_message(command ? *command->app : app_, extras);
    }
    if (!command && dynamic_cast<const CLI::RequiredError*>(&error)) {
        std::string names;
        for (const Command& c : commands_) names += full_name(c) + ", ";
        return "a command is needed: " + names + "or help";
    }
    if (command && dynamic_cast<const CLI::RequiredError*>(&error)) {
        if (std::string ways = ways_to_give(*command->app, error.what()); !ways.empty()) return ways;
    }
    return parse_error_message(error);
}

int WardenCli::print_help(std::ostream& out, std::ostream& err) const {
    if (help_topic_.empty() || help_topic_.front() == "help") {
        out << app_.get_formatter()->make_help(&app_, "warden", CLI::AppFormatMode::Normal);
        return exit_ok;
    }
    const Command* command = command_named(help_topic_);
    if (!command && help_topic_.size() == 1) {
        // A group's word alone: its commands.
        const std::string& word = help_topic_.front();
        const auto groups = app_.get_subcommands([&](const CLI::App* sub) {
            return sub != help_ && sub->check_name(word) && !sub->get_subcommands({}).empty();
        });
        if (!groups.empty()) {
            out << groups.front()->help("warden");
            return exit_ok;
        }
    }
    if (!command) {
        std::vector<std::string> names;
        for (const Command& c : commands_) names.push_back(full_name(c));
        std::string topic;
        for (const std::string& word : help_topic_) topic += (topic.empty() ? "" : " ") + word;
        err << "warden help: " << unknown_command_message(topic, names) << std::endl;
        return exit_usage;
    }
    out << command->app->help(command->group.empty() ? "warden" : "warden " + command->group);
    return exit_ok;
}

int WardenCli::run(std::ostream& err) {
    const Command* command = parsed_command();
    if (!command) return exit_usage;
    const std::string where = "warden " + full_name(*command) + ": ";
    if (command->stops_on_signal) install_stop_signals();
    log::set_min_level(log_level_named(log_levels_[static_cast<size_t>(command - commands_.data())]));
    try {
        return command->run();
    } catch (const UsageError& e) {
        err << where << log::redact(e.what()) << std::endl;
        return exit_usage;
    } catch (const std::exception& e) {
        // Error texts can quote what a library was given: credentials never go out.
        err << where << log::redact(e.what()) << std::endl;
        return exit_failure;
    }
}

}  // namespace warden::cli
