// Configuration layers: a TOML file, then WARDEN_* variables, then flags, checked at each layer.
#include "cli_test_support.hpp"
#include "layered_args.hpp"
#include "option_checks.hpp"
#include "usage.hpp"

#include <warden/kafka_properties.hpp>

#include <doctest/doctest.h>

#include <algorithm>

namespace {

using warden::cli::layered_arguments;
using warden::cli::UsageError;
using warden::test::contains;
using warden::test::FakeEnvironment;
using warden::test::ScratchFile;

struct Settings {
    std::string brokers;
    std::string group = "warden";
    size_t batch_size = 2000;
    bool dry_run = false;
    std::vector<std::string> properties;
};

// A subcommand shaped like `warden run`, parsed from the layered arguments.
Settings parse(const std::vector<std::string>& command_line, const std::map<std::string, std::string>& env = {},
               const std::vector<warden::cli::EnvironmentValue>& extra = {},
               warden::cli::SettingOrigins* origins = nullptr) {
    CLI::App app;
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    Settings s;
    CLI::App* run = app.add_subcommand("run");
    warden::cli::add_config_option(*run);
    run->add_option("--brokers", s.brokers)->envname("WARDEN_BROKERS");
    run->add_option("--group", s.group)->envname("WARDEN_GROUP");
    run->add_option("--batch-size", s.batch_size)
        ->envname("WARDEN_BATCH_SIZE")
        ->check(warden::cli::whole_number<size_t>(1));
    run->add_flag("--dry-run", s.dry_run);
    run->add_option("--kafka-property", s.properties)
        ->check(warden::cli::kafka_property_text())
        ->allow_extra_args(false);
    std::vector<std::string> args = layered_arguments(*run, command_line, FakeEnvironment{env}, extra, origins);
    args.insert(args.begin(), "run");
    std::reverse(args.begin(), args.end());
    app.parse(args);
    return s;
}

std::string usage_error(const std::vector<std::string>& command_line,
                        const std::map<std::string, std::string>& env = {}) {
    try {
        parse(command_line, env);
    } catch (const UsageError& e) {
        return e.what();
    }
    FAIL("accepted: no usage error");
    return {};
}

}  // namespace

TEST_CASE("settings: flags override the environment, which overrides the config file") {
    ScratchFile file("# comment line\nbrokers = \"file:9092\"\n\ngroup = \"file-group\"  # trailing comment\n");
    const std::string config = "--config=" + file.path.string();

    Settings only_file = parse({config});
    CHECK(only_file.brokers == "file:9092");
    CHECK(only_file.group == "file-group");

    Settings env_wins = parse({config}, {{"WARDEN_BROKERS", "env:9092"}});
    CHECK(env_wins.brokers == "env:9092");
    CHECK(env_wins.group == "file-group");

    Settings flag_wins = parse({config, "--brokers", "flag:9092"}, {{"WARDEN_BROKERS", "env:9092"}});
    CHECK(flag_wins.brokers == "flag:9092");

    Settings via_env_path = parse({}, {{"WARDEN_CONFIG", file.path.string()}});
    CHECK(via_env_path.brokers == "file:9092");

    Settings flag_path_wins = parse({"--config", file.path.string()}, {{"WARDEN_CONFIG", "/nonexistent.toml"}});
    CHECK(flag_path_wins.group == "file-group");

    Settings defaults = parse({"--brokers", "b:1"}, {{"WARDEN_GROUP", ""}});
    CHECK(defaults.group == "warden");  // an empty variable is unset
}

TEST_CASE("settings: repeatable options collect every layer in order, so later layers win when applied") {
    ScratchFile file("kafka-property = [\"fetch.wait.max.ms=10\", \"a=1\"]\nbrokers = \"x:1\"\n");
    const std::vector<warden::cli::EnvironmentValue> extra = {{"WARDEN_A", "kafka-property", "a="}};
    Settings s = parse({"--config", file.path.string(), "--kafka-property", "a=3"}, {{"WARDEN_A", "2"}}, extra);
    REQUIRE(s.properties.size() == 4);
    CHECK(s.properties[0] == "fetch.wait.max.ms=10");  // a value may itself contain '='
    CHECK(s.properties[1] == "a=1");                   // file
    CHECK(s.properties[2] == "a=2");                   // environment
    CHECK(s.properties[3] == "a=3");                   // flag
}

TEST_CASE("settings: each setting's origin is the layer its value came from; a repeatable one lists each") {
    ScratchFile file("brokers = \"file:9092\"\ngroup = \"file-group\"\nkafka-property = [\"a=1\"]\n");
    const std::string path = file.path.string();
    const std::vector<warden::cli::EnvironmentValue> extra = {{"WARDEN_A", "kafka-property", "a="}};
    warden::cli::SettingOrigins origins;
    parse({"--config", path, "--batch-size=5", "--kafka-property", "a=3"},
          {{"WARDEN_GROUP", "env-group"}, {"WARDEN_A", "2"}, {"WARDEN_BROKERS", ""}}, extra, &origins);
    CHECK(origins["brokers"] == path + ":1");
    CHECK(origins["group"] == "environment WARDEN_GROUP");
    CHECK(origins["batch-size"] == "flag");
    CHECK(origins["kafka-property"] == path + ":3, environment WARDEN_A, flag");
    CHECK(origins["config"] == "flag");
    CHECK_FALSE(origins.contains("dry-run"));
}

TEST_CASE("settings: an extra environment value applies only to commands that have its option") {
    const std::vector<warden::cli::EnvironmentValue> extra = {{"WARDEN_X", "no-such-option", "x="}};
    CHECK_NOTHROW(parse({"--brokers", "b:1"}, {{"WARDEN_X", "1"}}, extra));
}

TEST_CASE("settings: TOML values keep '#', '=' and quotes, and switches take booleans") {
    ScratchFile file(
        "group = \"warden#blue\"\n"
        "kafka-property = ['sasl.password=p#ss=w\"rd%00 ']\n"
        "batch-size = 500\n"
        "dry-run = true\n");
    Settings s = parse({"--config", file.path.string()});
    CHECK(s.group == "warden#blue");
    REQUIRE(s.properties.size() == 1);
    CHECK(s.properties[0] == "sasl.password=p#ss=w\"rd%00 ");
    CHECK(s.batch_size == 500);
    CHECK(s.dry_run);

    ScratchFile off("dry-run = false\n");
    CHECK_FALSE(parse({"--config", off.path.string()}).dry_run);
}

TEST_CASE("settings: a file or variable value is checked where it comes from, without quoting it") {
    ScratchFile file("brokers = \"x:1\"\n\nbatch-size = 0\n");
    const std::string message = usage_error({"--config", file.path.string()});
    CHECK(contains(message, file.path.string() + ":3"));
    CHECK(contains(message, "batch-size"));
    CHECK(contains(message, "whole number of at least 1"));

    const std::string from_env = usage_error({}, {{"WARDEN_BATCH_SIZE", "hunter2"}});
    CHECK(contains(from_env, "WARDEN_BATCH_SIZE"));
    CHECK_FALSE(contains(from_env, "hunter2"));

    ScratchFile property("kafka-property = [\"a=1\", \"sasl.password:hunter2\"]\n");
    const std::string bad_property = usage_error({"--config", property.path.string()});
    CHECK(contains(bad_property, property.path.string() + ":1"));
    CHECK(contains(bad_property, "kafka-property"));
    CHECK_FALSE(contains(bad_property, "hunter2"));
}

TEST_CASE("settings: --help is answered even with a broken config file") {
    ScratchFile broken("brokers = [\n");
    CHECK_THROWS_AS(parse({"--config", broken.path.string()}), UsageError);
    CHECK_THROWS_AS(parse({"--config", broken.path.string(), "--help"}), CLI::CallForHelp);
}

TEST_CASE("settings: --config needs a file name") {
    CHECK(contains(usage_error({"--config="}), "--config needs"));
    CHECK(contains(usage_error({"--config", ""}), "--config needs"));
}

TEST_CASE("kafka properties: name=value, the value may hold '='; malformed text is never quoted") {
    CHECK(warden::parse_kafka_property("a=b") == std::pair<std::string, std::string>{"a", "b"});
    CHECK(warden::parse_kafka_property("sasl.jaas=x=y").second == "x=y");
    CHECK(warden::parse_kafka_property("empty=").second.empty());
    for (const char* bad : {"novalue", "=value", "sasl.password:hunter2", "sasl.password = hunter2",
                            "sasl password=hunter2", "hunter2"}) {
        CAPTURE(bad);
        try {
            (void)warden::parse_kafka_property(bad);
            FAIL("accepted");
        } catch (const std::invalid_argument& e) {
            CHECK_FALSE(contains(e.what(), "hunter2"));
            CHECK(contains(e.what(), "name=value"));
        }
    }
}
