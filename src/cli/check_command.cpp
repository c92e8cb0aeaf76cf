// `warden check`: loads a configuration exactly as `run` does, shows the effective settings and
// where each came from, then checks every dependency `run` has. Exit 0 only when all pass.
#include "commands.hpp"
#include "kafka_client_args.hpp"
#include "run_args.hpp"
#include "team_store_args.hpp"
#include "usage.hpp"

#include <warden/dependency_checks.hpp>
#include <warden/key_usage.hpp>
#include <warden/log.hpp>
#include <warden/teams.hpp>

#include <algorithm>
#include <iostream>
#include <memory>
#include <optional>

namespace warden::cli {
namespace {

constexpr std::string_view secret_shown = "(secret)";

struct CheckArgs {
    RunArgs run;
    int64_t timeout_ms = 10'000;
    SettingOrigins origins;
};

bool holds_properties(const std::string& option) {
    return option == "kafka-property" || option == "consumer-property" || option == "producer-property";
}

// A value as shown: a credential-holding librdkafka property's value masked, then every
// registered credential (SASL and TLS secrets, the database password) redacted.
std::string shown_value(const std::string& option, const std::string& value) {
    if (holds_properties(option)) {
        const size_t equals = value.find('=');
        if (equals != std::string::npos && is_sensitive_property(value.substr(0, equals)))
            return value.substr(0, equals + 1) + std::string(secret_shown);
    }
    return log::redact(value);
}

void print_settings(const CLI::App& cmd, const SettingOrigins& origins, std::ostream& out) {
    out << "settings (where each came from: a flag, an environment variable, a config file line, or the default)\n";
    for (const CLI::Option* option : cmd.get_options()) {
        if (option->get_lnames().empty()) continue;
        const std::string& name = option->get_lnames().front();
        if (name == "help") continue;
        std::string value;
        if (option->count() > 0) {
            const std::vector<std::string> results = option->results();
            if (option->get_items_expected_max() > 1) {
                for (const std::string& r : results) value += (value.empty() ? "" : " ") + shown_value(name, r);
            } else {
                value = shown_value(name, results.back());
            }
        } else {
            value = option->get_default_str().empty() ? "(not set)" : shown_value(name, option->get_default_str());
        }
        const auto origin = origins.find(name);
        out << "  " << name << " = " << value << "  [" << (origin == origins.end() ? "default" : origin->second)
            << "]\n";
    }
}

// `postgres`: the store's options, for --postgres (read once: they hold the password file's content).
std::vector<DependencyCheck> team_store_checks(const TeamStoreArgs& store,
                                               const std::optional<PostgresStoreOptions>& postgres) {
    if (postgres) return check_postgres_dependencies(*postgres);
    try {
        const auto teams = FileTeamStore::load(store.teams_file, store.project_key_scope);
        return {{"teams file", true, store.teams_file + ": " + std::to_string(teams->team_count()) + " teams"}};
    } catch (const std::exception& e) {
        return {{"teams file", false, log::redact(e.what())}};
    }
}

// The write of keys' last use, run for no key: privileges are checked when a statement runs.
DependencyCheck key_usage_check(const RunArgs& run) {
    const PostgresStoreOptions& options = *run.key_usage;
    try {
        KeyUsageRecorder::Writer writer =
            postgres_key_usage_writer(options, std::chrono::milliseconds(run.key_usage_interval_ms));
        const KeyUsageWrite write = writer({});
        if (!write.ok) return {"key usage write", false, log::redact(write.error)};
    } catch (const std::invalid_argument& e) {
        return {"key usage write", false, log::redact(e.what())};
    }
    return {"key usage write", true, "the role may set last_used_at of " + options.key_table};
}

int run_check(CheckArgs& args, const CLI::App& cmd) {
    prepare_run(args.run);  // usage errors end here, exactly as `run` would refuse them
    std::optional<PostgresStoreOptions> postgres;
    if (!args.run.store.postgres.empty()) {
        postgres = postgres_store_options(args.run.store);
        register_postgres_credentials(*postgres);  // before a setting is printed
    }
    print_settings(cmd, args.origins, std::cout);

    KafkaDependencies kafka;
    kafka.brokers = args.run.worker.brokers;
    kafka.consumer_properties = worker_consumer_properties(args.run.worker);
    kafka.group = args.run.worker.group;
    kafka.input_topic = args.run.worker.input_topic;
    kafka.outputs = args.run.worker.topics;
    kafka.audit_topic = args.run.worker.audit_topic;
    kafka.timeout = std::chrono::milliseconds(args.timeout_ms);
    std::vector<DependencyCheck> checks = check_kafka_dependencies(kafka);
    for (DependencyCheck& c : team_store_checks(args.run.store, postgres)) checks.push_back(std::move(c));
    if (args.run.key_usage) checks.push_back(key_usage_check(args.run));

    std::cout << "checks\n";
    size_t failed = 0;
    for (const DependencyCheck& c : checks) {
        failed += c.passed ? 0 : 1;
        std::cout << "  " << (c.passed ? "pass" : "FAIL") << "  " << c.name << ": " << log::redact(c.detail) << '\n';
    }
    std::cout << (failed == 0 ? "all " + std::to_string(checks.size()) + " checks passed"
                              : std::to_string(failed) + " of " + std::to_string(checks.size()) + " checks failed")
              << std::endl;
    return failed == 0 ? exit_ok : exit_failure;
}

}  // namespace

Command add_check_command(CLI::App& root) {
    auto args = std::make_shared<CheckArgs>();
    CLI::App* cmd = root.add_subcommand(
        "check",
        "Load the configuration exactly as `run` does, print the effective settings and where each came from "
        "(secrets masked), then check every dependency: the brokers, the input and output topics, the group, and "
        "the team store (the lookup, the role's privileges, change notifications). Exits 0 only when all pass");
    add_run_options(*cmd, args->run);
    cmd->add_option("--timeout-ms", args->timeout_ms, "How long each request to the brokers may take")
        ->envname("WARDEN_CHECK_TIMEOUT_MS")
        ->capture_default_str()
        ->check(whole_number<int64_t>(1));
    Command command{cmd, [args, cmd] { return run_check(*args, *cmd); }};
    command.origins = &args->origins;
    return command;
}

}  // namespace warden::cli
