#include "layered_args.hpp"

#include <warden/kafka.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <unistd.h>

namespace {

using warden::cli::layered_arguments;

struct Settings {
    std::string brokers;
    std::string group = "warden";
    std::vector<std::string> properties;
};

// A subcommand shaped like `warden run`, parsed from the layered arguments.
Settings parse(const std::vector<std::string>& command_line, const std::map<std::string, std::string>& env) {
    CLI::App app;
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    Settings s;
    CLI::App* run = app.add_subcommand("run");
    run->add_option("--config");
    run->add_option("--brokers", s.brokers)->envname("WARDEN_BROKERS");
    run->add_option("--group", s.group)->envname("WARDEN_GROUP");
    run->add_option("--consumer-property", s.properties);
    auto getenv = [&env](const char* name) -> const char* {
        auto it = env.find(name);
        return it == env.end() ? nullptr : it->second.c_str();
    };
    std::vector<std::string> args = layered_arguments(*run, command_line, getenv);
    args.insert(args.begin(), "run");
    std::reverse(args.begin(), args.end());
    app.parse(args);
    return s;
}

struct ConfigFile {
    std::filesystem::path path;
    explicit ConfigFile(const std::string& text)
        : path(std::filesystem::temp_directory_path() / ("warden_layered_" + std::to_string(::getpid()) + ".conf")) {
        std::ofstream(path) << text;
    }
    ~ConfigFile() { std::filesystem::remove(path); }
};

}  // namespace

TEST_CASE("settings: flags override the environment, which overrides the config file") {
    ConfigFile file("# comment line\nbrokers = file:9092\n\ngroup=file-group  # trailing comment\n");
    const std::string config = "--config=" + file.path.string();

    Settings only_file = parse({config}, {});
    CHECK(only_file.brokers == "file:9092");
    CHECK(only_file.group == "file-group");

    Settings env_wins = parse({config}, {{"WARDEN_BROKERS", "env:9092"}});
    CHECK(env_wins.brokers == "env:9092");
    CHECK(env_wins.group == "file-group");

    Settings flag_wins = parse({config, "--brokers", "flag:9092"}, {{"WARDEN_BROKERS", "env:9092"}});
    CHECK(flag_wins.brokers == "flag:9092");

    Settings via_env_path = parse({}, {{"WARDEN_CONFIG", file.path.string()}});
    CHECK(via_env_path.brokers == "file:9092");

    Settings defaults = parse({"--brokers", "b:1"}, {{"WARDEN_GROUP", ""}});
    CHECK(defaults.group == "warden");  // an empty variable is unset
}

TEST_CASE("settings: repeatable options collect every layer in order") {
    ConfigFile file("consumer-property = fetch.wait.max.ms=10\nconsumer-property = a=1\nbrokers=x:1\n");
    Settings s = parse({"--config", file.path.string(), "--consumer-property", "a=2"}, {});
    REQUIRE(s.properties.size() == 3);
    CHECK(s.properties[0] == "fetch.wait.max.ms=10");  // a value may itself contain '='
    CHECK(s.properties[1] == "a=1");
    CHECK(s.properties[2] == "a=2");  // later wins when the properties are applied in order
}

TEST_CASE("settings: a bad config file is refused with its file and line") {
    {
        ConfigFile file("brokers = x:1\nbrokrs = y:1\n");
        try {
            parse({"--config", file.path.string()}, {});
            FAIL("an unknown setting was accepted");
        } catch (const CLI::ValidationError& e) {
            CHECK(std::string(e.what()).find(file.path.string() + ":2") != std::string::npos);
            CHECK(std::string(e.what()).find("brokrs") != std::string::npos);
        }
    }
    {
        ConfigFile file("brokers\n");
        CHECK_THROWS_AS(parse({"--config", file.path.string()}, {}), CLI::ValidationError);
    }
    CHECK_THROWS_AS(parse({"--config", "/nonexistent/warden.conf"}, {}), CLI::FileError);
    ConfigFile nested("config = other.conf\n");
    CHECK_THROWS_AS(parse({"--config", nested.path.string()}, {}), CLI::ValidationError);
}

TEST_CASE("kafka properties: name=value, the value may hold '='") {
    CHECK(warden::parse_kafka_property("a=b") == std::pair<std::string, std::string>{"a", "b"});
    CHECK(warden::parse_kafka_property("sasl.jaas=x=y").second == "x=y");
    CHECK(warden::parse_kafka_property("empty=").second.empty());
    CHECK_THROWS_AS(warden::parse_kafka_property("novalue"), std::invalid_argument);
    CHECK_THROWS_AS(warden::parse_kafka_property("=value"), std::invalid_argument);
}
