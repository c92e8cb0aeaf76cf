// The Kafka client options of run and replay: order of application, credentials from the
// environment and from files, and no credential in any message.
#include "cli_test_support.hpp"
#include "kafka_client_args.hpp"
#include "usage.hpp"

#include <warden/kafka_handles.hpp>
#include <warden/log.hpp>
#include <warden/worker.hpp>

#include <doctest/doctest.h>

#include <algorithm>

namespace {

using warden::KafkaProperties;
using warden::cli::ClientProperties;
using warden::cli::KafkaClientArgs;
using warden::test::contains;
using warden::test::FakeEnvironment;
using warden::test::ScratchFile;

// The options as `warden run` declares them, parsed over the layers.
KafkaClientArgs parse(const std::vector<std::string>& command_line,
                      const std::map<std::string, std::string>& env = {}) {
    CLI::App app;
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    CLI::App* run = app.add_subcommand("run");
    warden::cli::add_config_option(*run);
    KafkaClientArgs args;
    warden::cli::add_kafka_client_options(*run, args);
    std::vector<std::string> layered = warden::cli::layered_arguments(*run, command_line, FakeEnvironment{env},
                                                                      warden::cli::kafka_environment_values());
    layered.insert(layered.begin(), "run");
    std::reverse(layered.begin(), layered.end());
    app.parse(layered);
    return args;
}

// The value a client ends up with: the last one given.
std::string effective(const KafkaProperties& properties, const std::string& name) {
    std::string value = "(unset)";
    for (const auto& [n, v] : properties) {
        if (n == name) value = v;
    }
    return value;
}

// Empties the registry of credentials around a test, so that each sees only its own.
struct CleanCredentials {
    CleanCredentials() { warden::log::clear_sensitive_values(); }
    ~CleanCredentials() { warden::log::clear_sensitive_values(); }
};

}  // namespace

TEST_CASE("kafka options: --kafka-property reaches both clients after warden's defaults, before the per-client ones") {
    CleanCredentials clean;
    const KafkaClientArgs args = parse({"--brokers", "b:1", "--kafka-property", "security.protocol=SASL_SSL",
                                        "--kafka-property", "queued.min.messages=5", "--consumer-property",
                                        "queued.min.messages=7", "--producer-property", "linger.ms=3"});
    const ClientProperties properties = warden::cli::client_properties(args);
    CHECK(effective(properties.consumer, "security.protocol") == "SASL_SSL");
    CHECK(effective(properties.producer, "security.protocol") == "SASL_SSL");
    CHECK(effective(properties.consumer, "queued.min.messages") == "7");
    CHECK(effective(properties.producer, "queued.min.messages") == "5");
    CHECK(effective(properties.producer, "linger.ms") == "3");
    CHECK(effective(properties.consumer, "linger.ms") == "(unset)");

    // In the worker's consumer settings warden's own pre-fetch default comes first, so ours win.
    warden::WorkerOptions options;
    options.consumer_properties = properties.consumer;
    const KafkaProperties consumer = warden::worker_consumer_properties(options);
    CHECK(effective(consumer, "queued.min.messages") == "7");
    CHECK(std::count_if(consumer.begin(), consumer.end(),
                        [](const auto& p) { return p.first == "queued.min.messages"; }) >= 2);
}

TEST_CASE("kafka options: credentials layer as file < WARDEN_KAFKA_* < flags") {
    CleanCredentials clean;
    ScratchFile file(
        "brokers = \"b:1\"\n"
        "kafka-property = [\"sasl.username=file-user\", \"sasl.password=file#pass\"]\n");
    const std::string config = "--config=" + file.path.string();
    auto username = [](const KafkaClientArgs& args) {
        return effective(warden::cli::client_properties(args).consumer, "sasl.username");
    };
    CHECK(username(parse({config})) == "file-user");
    CHECK(username(parse({config}, {{"WARDEN_KAFKA_SASL_USERNAME", "env-user"}})) == "env-user");
    CHECK(username(parse({config, "--kafka-property", "sasl.username=flag-user"},
                         {{"WARDEN_KAFKA_SASL_USERNAME", "env-user"}})) == "flag-user");
    CHECK(effective(warden::cli::client_properties(parse({config})).producer, "sasl.password") == "file#pass");
    CHECK(effective(warden::cli::client_properties(
                        parse({"--brokers", "b:1"}, {{"WARDEN_KAFKA_SECURITY_PROTOCOL", "SASL_SSL"},
                                                     {"WARDEN_KAFKA_SASL_MECHANISM", "PLAIN"}}))
                        .producer,
                    "sasl.mechanism") == "PLAIN");
}

TEST_CASE("kafka options: a property from a file takes the file's text, and is a credential") {
    CleanCredentials clean;
    const std::string password = "s3cr#t=\"x\"%00 end";
    ScratchFile secret_file(password + "\n", ".secret");
    const KafkaClientArgs args =
        parse({"--brokers", "b:1", "--kafka-property-file", "sasl.password=" + secret_file.path.string()});
    const ClientProperties properties = warden::cli::client_properties(args);
    CHECK(effective(properties.consumer, "sasl.password") == password);  // the final line break removed
    CHECK(effective(properties.producer, "sasl.password") == password);
    CHECK_FALSE(contains(warden::log::redact("connect failed: " + password), password));

    ScratchFile key_file("keypass\r\n", ".secret");
    const KafkaClientArgs from_env =
        parse({"--brokers", "b:1"}, {{"WARDEN_KAFKA_SSL_KEY_PASSWORD_FILE", key_file.path.string()}});
    CHECK(effective(warden::cli::client_properties(from_env).consumer, "ssl.key.password") == "keypass");
}

TEST_CASE("kafka options: a property given inline and as a file is refused, naming it") {
    CleanCredentials clean;
    ScratchFile secret_file("from-file\n", ".secret");
    const KafkaClientArgs args =
        parse({"--brokers", "b:1", "--kafka-property-file", "sasl.password=" + secret_file.path.string()},
              {{"WARDEN_KAFKA_SASL_PASSWORD", "from-env"}});
    try {
        warden::cli::client_properties(args);
        FAIL("accepted");
    } catch (const warden::cli::UsageError& e) {
        CHECK(contains(e.what(), "sasl.password"));
        CHECK_FALSE(contains(e.what(), "from-env"));
        CHECK_FALSE(contains(e.what(), "from-file"));
    }
}

TEST_CASE("kafka options: an unusable secret file is named, with its property") {
    CleanCredentials clean;
    ScratchFile empty("\n", ".secret");
    const auto directory = std::filesystem::temp_directory_path().string();
    for (const std::string& path : {empty.path.string(), directory}) {
        CAPTURE(path);
        const KafkaClientArgs args = parse({"--brokers", "b:1", "--kafka-property-file", "sasl.password=" + path});
        try {
            warden::cli::client_properties(args);
            FAIL("accepted");
        } catch (const std::runtime_error& e) {
            CHECK(contains(e.what(), path));
            CHECK(contains(e.what(), "sasl.password"));
        }
    }
    // A name that is no file may be the password given to the wrong option: it is not repeated.
    const KafkaClientArgs mistaken =
        parse({"--brokers", "b:1", "--kafka-property-file", "sasl.password=hunter2-Sup3r"});
    try {
        warden::cli::client_properties(mistaken);
        FAIL("accepted");
    } catch (const std::runtime_error& e) {
        CHECK(contains(e.what(), "does not exist"));
        CHECK(contains(e.what(), "sasl.password"));
        CHECK_FALSE(contains(e.what(), "hunter2"));
    }
}

TEST_CASE("kafka options: every credential value is registered for redaction, other values stay readable") {
    CleanCredentials clean;
    const KafkaClientArgs args =
        parse({"--brokers", "b:1", "--kafka-property", "sasl.password=pw-AAAA", "--kafka-property",
               "security.protocol=SASL_SSL", "--consumer-property", "ssl.key.password=pw-BBBB", "--producer-property",
               "sasl.oauthbearer.config=principal=pw-CCCC", "--kafka-property", "SASL.PASSWORD=pw-DDDD"},
              {{"WARDEN_KAFKA_SASL_USERNAME", "user-EEEE"}});
    // SASL.PASSWORD is no librdkafka name: refused, but registered before anything could print it.
    CHECK_THROWS_AS(warden::cli::client_properties(args), warden::cli::UsageError);
    const std::string line = warden::log::redact("pw-AAAA pw-BBBB principal=pw-CCCC pw-DDDD user-EEEE SASL_SSL");
    for (const char* value : {"pw-AAAA", "pw-BBBB", "pw-CCCC", "pw-DDDD", "user-EEEE"}) {
        CAPTURE(value);
        CHECK_FALSE(contains(line, value));
    }
    CHECK(contains(line, "SASL_SSL"));

    for (const char* name : {"sasl.password", "sasl.username", "ssl.key.password", "ssl.keystore.password",
                             "ssl.key.pem", "ssl_key", "sasl.oauthbearer.config", "sasl.oauthbearer.client.secret"}) {
        CAPTURE(name);
        CHECK(warden::cli::is_sensitive_property(name));
    }
    for (const char* name :
         {"security.protocol", "sasl.mechanism", "ssl.ca.location", "bootstrap.servers", "client.id"}) {
        CAPTURE(name);
        CHECK_FALSE(warden::cli::is_sensitive_property(name));
    }
}

TEST_CASE("kafka options: librdkafka's refusal of a value does not quote the value") {
    const std::string value = "hunter2-Sup3r";
    for (const auto& property : KafkaProperties{{"security.protocol", value},
                                                {"sasl.mechanism", value + " " + value},
                                                {"enable.idempotence", value},
                                                {"security.protocol", value + std::string(600, 'x')},
                                                {"no.such.property", value}}) {
        CAPTURE(property.first);
        try {
            (void)warden::kafka::make_conf({property});
            FAIL("accepted");
        } catch (const std::runtime_error& e) {
            CHECK(contains(e.what(), property.first));
            CHECK_FALSE(contains(e.what(), value));
            CHECK_FALSE(contains(e.what(), "hunter"));
        }
    }
}

TEST_CASE("kafka options: a property librdkafka refuses is a usage error naming it, not quoting the value") {
    CleanCredentials clean;
    for (const std::vector<std::string>& flags :
         {std::vector<std::string>{"--kafka-property", "security.protocol=hunter2-Sup3r"},
          std::vector<std::string>{"--consumer-property", "no.such.property=hunter2-Sup3r"},
          std::vector<std::string>{"--producer-property", "linger.ms=hunter2-Sup3r"}}) {
        CAPTURE(flags[1]);
        std::vector<std::string> args = {"--brokers", "b:1"};
        args.insert(args.end(), flags.begin(), flags.end());
        try {
            warden::cli::client_properties(parse(args));
            FAIL("accepted");
        } catch (const warden::cli::UsageError& e) {
            CHECK(contains(e.what(), flags[1].substr(0, flags[1].find('='))));
            CHECK_FALSE(contains(e.what(), "hunter2"));
        }
    }
}
