// The warden command line as a whole: real subcommands parsed over the config and environment
// layers, exit statuses, help and version, and no value ever echoed.
#include "cli_test_support.hpp"
#include "team_store_args.hpp"
#include "usage.hpp"
#include "warden_cli.hpp"

#include <warden/build_info.hpp>

#include <doctest/doctest.h>

#include <fstream>
#include <set>
#include <sstream>

namespace {

using warden::cli::WardenCli;
using warden::test::contains;
using warden::test::FakeEnvironment;
using warden::test::ScratchFile;
using warden::test::secret;

struct Outcome {
    std::optional<int> status;  // nothing: a command is ready to run
    std::string out, err;
};

Outcome parse(WardenCli& cli, const std::vector<std::string>& args,
              const std::map<std::string, std::string>& env = {}) {
    std::ostringstream out, err;
    Outcome outcome;
    outcome.status = cli.parse(args, FakeEnvironment{env}, out, err);
    outcome.out = out.str();
    outcome.err = err.str();
    return outcome;
}

Outcome parse(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {}) {
    WardenCli cli;
    return parse(cli, args, env);
}

// The first ```toml block of the README: the config example operators copy.
std::string readme_config_example() {
    std::ifstream in(std::string(WARDEN_SOURCE_ROOT) + "/README.md");
    REQUIRE(in);
    std::string line, block;
    bool inside = false;
    while (std::getline(in, line)) {
        if (!inside && line == "```toml") {
            inside = true;
        } else if (inside && line == "```") {
            return block;
        } else if (inside) {
            block += line + "\n";
        }
    }
    FAIL("the README has no ```toml block");
    return {};
}

std::string option_value(WardenCli& cli, const std::string& command, const std::string& option) {
    return cli.app().get_subcommand(command)->get_option(option)->as<std::string>();
}

}  // namespace

TEST_CASE("cli: the README's config example is valid for `warden run`") {
    const std::string example = readme_config_example();
    REQUIRE(contains(example, "brokers"));
    ScratchFile file(example);
    WardenCli cli;
    const Outcome outcome = parse(cli, {"run", "--config", file.path.string()});
    INFO(outcome.err);
    CHECK_FALSE(outcome.status.has_value());
    CHECK(option_value(cli, "run", "--brokers") == "kafka-1:9092,kafka-2:9092");
    CHECK(option_value(cli, "run", "--group") == "warden");
}

TEST_CASE("cli: --version names warden's and librdkafka's versions") {
    const Outcome outcome = parse({"--version"});
    CHECK(outcome.status == 0);
    CHECK(contains(outcome.out, "warden " + warden::build_info().version));
    CHECK(contains(outcome.out, "librdkafka " + warden::build_info().librdkafka));
    CHECK_FALSE(warden::build_info().version.empty());
}

TEST_CASE("cli: `warden help COMMAND` prints what `warden COMMAND --help` prints") {
    for (const char* command : {"run", "replay", "process", "demo", "mock-cluster"}) {
        CAPTURE(command);
        const Outcome help = parse({"help", command});
        const Outcome flag = parse({command, "--help"});
        CHECK(help.status == 0);
        CHECK(flag.status == 0);
        CHECK(help.out == flag.out);
        CHECK(contains(help.out, std::string("warden ") + command));
    }
    const Outcome root = parse({"help"});
    CHECK(root.status == 0);
    CHECK(root.out == parse({"--help"}).out);
    CHECK(contains(root.out, "Exit status"));

    const Outcome unknown = parse({"help", "rn"});
    CHECK(unknown.status == 2);
    CHECK(contains(unknown.err, "did you mean run?"));
}

TEST_CASE("cli: help is printed even when WARDEN_CONFIG names a broken file") {
    ScratchFile broken("brokers = \n");
    const Outcome outcome = parse({"run", "--help"}, {{"WARDEN_CONFIG", broken.path.string()}});
    CHECK(outcome.status == 0);
    CHECK(contains(outcome.out, "--brokers"));
    CHECK(parse({"run"}, {{"WARDEN_CONFIG", broken.path.string()}}).status == 2);
}

TEST_CASE("cli: an unknown option is named with the closest known one, its value never") {
    Outcome outcome = parse({"run", "--brokerz", "x:1", "--teams", "t.json"});
    CHECK(outcome.status == 2);
    CHECK(contains(outcome.err, "unknown option --brokerz for `warden run`; did you mean --brokers?"));

    outcome = parse({"replay", std::string("--sasl-password=") + secret, "--brokers", "b:1"});
    CHECK(outcome.status == 2);
    CHECK(contains(outcome.err, "unknown option --sasl-password"));
    CHECK(contains(outcome.err, "--kafka-property"));
    CHECK_FALSE(contains(outcome.err, secret));

    outcome = parse({"run", "--brokers", "b:1", "--teams", "t.json", secret});
    CHECK(outcome.status == 2);
    CHECK(contains(outcome.err, "positional"));
    CHECK_FALSE(contains(outcome.err, secret));

    outcome = parse({"rn"});
    CHECK(outcome.status == 2);
    CHECK(contains(outcome.err, "did you mean run?"));
    for (const std::vector<std::string>& args : {std::vector<std::string>{std::string("sasl.password=") + secret},
                                                 std::vector<std::string>{"help", std::string("pw:") + secret}}) {
        outcome = parse(args);
        CHECK(outcome.status == 2);
        CHECK(contains(outcome.err, "unknown command"));
        CHECK_FALSE(contains(outcome.err, secret));
    }
    CHECK(parse({}).status == 2);
}

TEST_CASE("cli: numbers out of range are refused in plain words") {
    Outcome outcome = parse({"run", "--brokers", "b:1", "--teams", "t.json", "--batch-size", "0"});
    CHECK(outcome.status == 2);
    CHECK(contains(outcome.err, "--batch-size must be a whole number of at least 1"));
    outcome = parse({"demo", "--partitions", "300"});
    CHECK(contains(outcome.err, "--partitions must be a whole number from 1 to 256"));
    outcome = parse({"run", "--brokers", "b:1", "--teams", "t.json", "--cache-ttl-ms", "99999999999999999999"});
    CHECK(outcome.status == 2);
    CHECK(contains(outcome.err, "--cache-ttl-ms must be a whole number"));
    outcome = parse({"replay", "--brokers", "b:1", "--teams", "t.json", "--max-rate", "-5"});
    CHECK(contains(outcome.err, "--max-rate must be a number at least 0"));
}

TEST_CASE("cli: a config path that is a directory or missing is a usage error") {
    Outcome outcome = parse({"run", "--config", std::filesystem::temp_directory_path().string()});
    CHECK(outcome.status == 2);
    CHECK(contains(outcome.err, "is a directory"));
    outcome = parse({"process", "--config", "/nonexistent/warden.toml"});
    CHECK(outcome.status == 2);
    CHECK(contains(outcome.err, "/nonexistent/warden.toml"));
}

TEST_CASE("cli: replay positions and partitions are usage errors; inverted ranges are refused") {
    const std::vector<std::string> base = {"replay", "--brokers", "127.0.0.1:1", "--teams", "t.json"};
    auto with = [&base](std::vector<std::string> more) {
        std::vector<std::string> args = base;
        args.insert(args.end(), more.begin(), more.end());
        return args;
    };
    for (const auto& args :
         {with({"--from", "yesterday"}), with({"--to", "2024-06-10T06:00:00"}), with({"--partitions", "1,x"}),
          with({"--partitions", "-1"}), with({"--partitions", "1,,2"}), with({"--partitions", "3,3"})}) {
        CAPTURE(args.back());
        CHECK(parse(args).status == 2);
    }
    for (const auto& args : {with({"--from", "latest", "--to", "earliest"}), with({"--from", "10", "--to", "5"}),
                             with({"--from", "5", "--to", "5"}),
                             with({"--from", "2024-06-10T07:00:00Z", "--to", "2024-06-10T06:00:00Z"})}) {
        CAPTURE(args);
        WardenCli cli;
        REQUIRE_FALSE(parse(cli, args).status.has_value());
        std::ostringstream err;
        CHECK(cli.run(err) == 2);  // refused before anything is opened
        CHECK(contains(err.str(), "replay range"));
    }
}

TEST_CASE("cli: no option of any command echoes its value, from a flag, a variable or the config file") {
    // Options whose values have a shape of their own, which a value holding ':' does not have.
    const std::set<std::string> shaped = {"input-topic",
                                          "topic",
                                          "analytics-topic",
                                          "error-tracking-topic",
                                          "heatmaps-topic",
                                          "dlq-topic",
                                          "metrics-address",
                                          "max-message-bytes",
                                          "batch-size",
                                          "partitions",
                                          "from",
                                          "to"};
    int refusals = 0;
    for (const char* name : {"run", "replay", "process", "demo", "mock-cluster"}) {
        for (const std::string& value : {std::string(secret), std::string("sasl.password:") + secret}) {
            // A secret pasted as a config key.
            ScratchFile as_key("\"" + value + "\" = 1\n");
            const Outcome outcome = parse({name, "--config", as_key.path.string()});
            CHECK(outcome.status == 2);
            CHECK_FALSE(contains(outcome.out + outcome.err, secret));
        }
        WardenCli probe;
        CLI::App* command = probe.app().get_subcommand(name);
        for (const CLI::Option* option : command->get_options()) {
            if (option->get_lnames().empty()) continue;
            const std::string long_name = option->get_lnames().front();
            if (long_name == "help" || long_name == "config") continue;
            CAPTURE(name);
            CAPTURE(long_name);
            const bool is_switch = option->get_items_expected_max() == 0;
            // Parsing only: a command that would accept the value is never run.
            for (const std::string& value : {std::string(secret), std::string("sasl.password:") + secret}) {
                Outcome outcome = parse({name, "--" + long_name + "=" + value});
                CHECK_FALSE(contains(outcome.out + outcome.err, secret));
                const bool misshapen = shaped.count(long_name) && value.find(':') != std::string::npos;
                if (is_switch || misshapen) CHECK(outcome.status == 2);

                ScratchFile list(long_name + " = [\"" + value + "\"]\n");
                outcome = parse({name, "--config", list.path.string()});
                CHECK_FALSE(contains(outcome.out + outcome.err, secret));

                ScratchFile scalar(long_name + " = \"" + value + "\"\n");
                outcome = parse({name, "--config", scalar.path.string()});
                CHECK_FALSE(contains(outcome.out + outcome.err, secret));
                if (is_switch) CHECK(outcome.status == 2);

                if (!option->get_envname().empty()) {
                    outcome = parse({name}, {{option->get_envname(), value}});
                    CHECK_FALSE(contains(outcome.out + outcome.err, secret));
                    if (misshapen) CHECK(outcome.status == 2);
                }
                refusals += outcome.status == 2 ? 1 : 0;
            }
        }
    }
    CHECK(refusals > 60);  // most values were refused: the messages above were errors, not echoes of success
}

TEST_CASE("cli: suggestions are made for typos only") {
    const std::vector<std::string> names = {"brokers", "batch-size", "kafka-property", "max-message-bytes"};
    CHECK(warden::cli::closest_name("brokerz", names) == "brokers");
    CHECK(warden::cli::closest_name("BROKERS", names) == "brokers");
    CHECK(warden::cli::closest_name("batchsize", names) == "batch-size");
    CHECK(warden::cli::closest_name("kafka-properties", names) == "kafka-property");
    CHECK(warden::cli::closest_name("max-message", names) == "max-message-bytes");  // an abbreviation
    CHECK(warden::cli::closest_name("zzz", names).empty());
    CHECK(warden::cli::closest_name("group", names).empty());
    CHECK(warden::cli::closest_name("", names).empty());
    const Outcome outcome = parse({"run", "--zzzzzz", "--brokers", "b:1", "--teams", "t.json"});
    CHECK(outcome.status == 2);
    CHECK(contains(outcome.err, "unknown option --zzzzzz"));
    CHECK_FALSE(contains(outcome.err, "did you mean"));
}

TEST_CASE("cli: a missing setting is named with every way of giving it") {
    const Outcome outcome = parse({"run", "--teams", "t.json"});
    CHECK(outcome.status == 2);
    CHECK(contains(outcome.err,
                   "--brokers is required: give the flag, `brokers = …` in the config file, or WARDEN_BROKERS"));
}

TEST_CASE("cli: every command takes --log-level, declared once, checked alike; the demo defaults to warn") {
    for (const std::string command : {"run", "replay", "process", "demo", "mock-cluster"}) {
        CAPTURE(command);
        WardenCli cli;
        const Outcome help = parse(cli, {"help", command});
        CHECK(help.status == 0);
        CHECK(contains(help.out, "--log-level"));
        CHECK(contains(help.out, "WARDEN_LOG_LEVEL"));
        CHECK(contains(help.out, command == "demo" ? "=warn" : "=info"));
        const Outcome loud = parse({command, "--log-level", "loud"});
        CHECK(loud.status == 2);
        CHECK(contains(loud.err, "--log-level"));
        const Outcome from_env = parse({command}, {{"WARDEN_LOG_LEVEL", "loud"}});
        CHECK(from_env.status == 2);
        CHECK(contains(from_env.err, "WARDEN_LOG_LEVEL"));
    }
    const Outcome debug = parse({"process", "--log-level", "debug", "--teams", "/nonexistent.json", "--input", "-",
                                 "--output-dir", "/tmp/unused"});
    CHECK_FALSE(debug.status);
}

TEST_CASE("the store query cap guards PostgreSQL: a teams file, read from memory, has none") {
    warden::cli::TeamStoreArgs file;
    file.teams_file = "teams.json";
    CHECK(warden::cli::team_cache_options(file).max_store_fetches_per_second == 0);
    warden::cli::TeamStoreArgs postgres;
    postgres.postgres = "host=127.0.0.1 dbname=posthog";
    CHECK(warden::cli::team_cache_options(postgres).max_store_fetches_per_second == 50);
    postgres.max_store_queries_per_second = 7.5;
    CHECK(warden::cli::team_cache_options(postgres).max_store_fetches_per_second == 7.5);
}
