// Wrong usage refused before anything is contacted, with exit status 2 and without echoing a
// value: Kafka settings librdkafka refuses, metrics addresses, record size limits, topic names and
// topics that would loop; and secrets given where the name of their file belongs.
#include "cli_test_support.hpp"
#include "warden_cli.hpp"

#include <warden/kafka_handles.hpp>
#include <warden/log.hpp>

#include <doctest/doctest.h>

#include <filesystem>
#include <sstream>

namespace {

using warden::cli::WardenCli;
using warden::test::contains;
using warden::test::FakeEnvironment;
using warden::test::ScratchFile;
using warden::test::secret;

struct Outcome {
    std::optional<int> status;  // the parse status, or the run status when parsing left a command to run
    bool ran = false;
    std::string err;
};

// Parses `args` and, when a command is ready, runs it.
Outcome parse_and_run(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {}) {
    WardenCli cli;
    std::ostringstream out, err;
    Outcome outcome;
    outcome.status = cli.parse(args, FakeEnvironment{env}, out, err);
    if (!outcome.status) {
        outcome.ran = true;
        outcome.status = cli.run(err);
    }
    outcome.err = out.str() + err.str();
    return outcome;
}

// Parses only: the command is never run.
Outcome parse(const std::vector<std::string>& args) {
    WardenCli cli;
    std::ostringstream out, err;
    Outcome outcome;
    outcome.status = cli.parse(args, FakeEnvironment{}, out, err);
    outcome.err = out.str() + err.str();
    return outcome;
}

std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
    args.insert(args.end(), more.begin(), more.end());
    return args;
}

const std::string samples = std::string(WARDEN_SOURCE_ROOT) + "/samples";
// A teams file that does not exist: a command that got past its usage checks fails on it (exit 1).
const std::string no_teams = "/nonexistent/warden-teams.json";

// Log lines written while it lives.
struct CapturedLog {
    static std::vector<std::string>& lines() {
        static std::vector<std::string> captured;
        return captured;
    }
    CapturedLog() {
        lines().clear();
        warden::log::set_sink([](const std::string& line) { lines().push_back(line); });
    }
    ~CapturedLog() { warden::log::set_sink(nullptr); }
    std::string text() const {
        std::string all;
        for (const std::string& line : lines()) all += line;
        return all;
    }
};

}  // namespace

TEST_CASE("cli: a password given where the name of its file belongs is not shown") {
    const std::vector<std::string> process = {"process",   "--postgres",   "host=127.0.0.1 port=1", "--input",
                                              "/dev/null", "--output-dir", "/nonexistent/out"};
    Outcome outcome = parse_and_run(with(process, {"--postgres-password-file", secret}));
    CHECK(outcome.status == 1);
    CHECK(contains(outcome.err, "--postgres-password-file does not exist"));
    CHECK_FALSE(contains(outcome.err, secret));

    outcome = parse_and_run(process, {{"WARDEN_POSTGRES_PASSWORD_FILE", secret}});
    CHECK(outcome.status == 1);
    CHECK_FALSE(contains(outcome.err, secret));

    // A file that exists is named: its name is a path, not a secret.
    ScratchFile empty("", ".password");
    outcome = parse_and_run(with(process, {"--postgres-password-file", empty.path.string()}));
    CHECK(outcome.status == 1);
    CHECK(contains(outcome.err, empty.path.string() + " given for --postgres-password-file has an empty first line"));
}

TEST_CASE("cli: a config key or command word that is no setting's typo is not quoted") {
    for (const std::string& key : {std::string(secret), std::string("hunterpassword"), std::string("x.y")}) {
        CAPTURE(key);
        ScratchFile file("teams = \"t.json\"\n\"" + key + "\" = 1\n");
        const Outcome outcome = parse({"process", "--config", file.path.string()});
        CHECK(outcome.status == 2);
        CHECK(contains(outcome.err, file.path.string() + ":2: unknown setting for `warden process`"));
        CHECK_FALSE(contains(outcome.err, key));
    }
    ScratchFile typo("teams = \"t.json\"\noutput-dri = \"o\"\n");
    const Outcome outcome = parse({"process", "--config", typo.path.string()});
    CHECK(contains(outcome.err, ":2: unknown setting 'output-dri' for `warden process`; did you mean output-dir?"));

    const Outcome word = parse({"hunterpassword"});
    CHECK(word.status == 2);
    CHECK(contains(word.err, "unknown command"));
    CHECK_FALSE(contains(word.err, "hunterpassword"));
}

TEST_CASE("cli: a value starting with '-' where none belongs is not quoted as an unknown option") {
    const std::string dashed = std::string("-S") + secret;
    Outcome outcome = parse({"run", "--brokers", "b:1", "--teams", "t.json", dashed});
    CHECK(outcome.status == 2);
    CHECK(contains(outcome.err, "not shown: it may be a secret"));
    CHECK_FALSE(contains(outcome.err, secret));
    outcome = parse({"run", "--brokers", "b:1", "--teams", "t.json", "-x"});
    CHECK(contains(outcome.err, "unknown option -x for `warden run`"));
    outcome = parse({"run", "--brokers", "b:1", "--teams", "t.json", "-brokers"});
    CHECK(contains(outcome.err, "unknown option -brokers for `warden run`; did you mean --brokers?"));
}

TEST_CASE("cli: settings that name something must not be empty") {
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"run", "--brokers", "", "--teams", "t.json"},
          std::vector<std::string>{"run", "--brokers", "b:1", "--teams", "t.json", "--group", ""},
          std::vector<std::string>{"process", "--teams", "t.json", "--input", "", "--output-dir", "o"},
          std::vector<std::string>{"process", "--teams", "t.json", "--input", "-", "--output-dir", ""},
          std::vector<std::string>{"replay", "--brokers", "b:1", "--postgres", "host=x", "--postgres-table", ""}}) {
        CAPTURE(args);
        const Outcome outcome = parse(args);
        CHECK(outcome.status == 2);
        CHECK(contains(outcome.err, "must not be empty"));
    }
}

TEST_CASE("cli: a Kafka setting librdkafka refuses only when a client is created is a usage error naming no value") {
    const std::vector<std::string> run = {
        "run", "--brokers", "127.0.0.1:1", "--teams", samples + "/teams.json", "--metrics-address", "off"};
    CapturedLog log;
    Outcome outcome = parse_and_run(with(run, {"--kafka-property", "security.protocol=SASL_PLAINTEXT",
                                               "--kafka-property", std::string("sasl.mechanism=") + secret}));
    CHECK(outcome.status == 2);
    CHECK(contains(outcome.err, "librdkafka refuses the consumer settings"));
    CHECK_FALSE(contains(outcome.err + log.text(), secret));

    // Only the producer's settings are wrong: the consumer was created and destroyed untouched.
    outcome = parse_and_run(with(run, {"--producer-property", "security.protocol=SASL_PLAINTEXT", "--producer-property",
                                       std::string("sasl.mechanism=") + secret}));
    CHECK(outcome.status == 2);
    CHECK(contains(outcome.err, "producer settings"));
    CHECK_FALSE(contains(outcome.err + log.text(), secret));

    const std::vector<std::string> replay = {"replay",
                                             "--brokers",
                                             "127.0.0.1:1",
                                             "--teams",
                                             no_teams,
                                             "--consumer-property",
                                             "security.protocol=SASL_SSL",
                                             "--consumer-property",
                                             std::string("sasl.mechanism=") + secret};
    outcome = parse_and_run(replay);
    CHECK(outcome.status == 2);
    CHECK_FALSE(contains(outcome.err + log.text(), secret));
}

TEST_CASE("kafka: librdkafka's configuration warnings and refusals never quote a value") {
    CapturedLog log;
    // A warning at creation: "`sasl.mechanism` set to `…` but `security.protocol` is not configured for SASL".
    {
        warden::kafka::ClientPtr producer = warden::kafka::make_client(
            RD_KAFKA_PRODUCER, warden::kafka::make_conf({{"sasl.mechanism", secret}, {"client.id", "warning-probe"}}));
    }
    CHECK(contains(log.text(), "CONFWARN"));
    CHECK(contains(log.text(), "sasl.mechanism"));
    CHECK_FALSE(contains(log.text(), secret));

    // A refusal at creation: "Unsupported SASL mechanism: …".
    std::string refusal;
    try {
        (void)warden::kafka::make_client(RD_KAFKA_PRODUCER, warden::kafka::make_conf({{"security.protocol", "SASL_SSL"},
                                                                                      {"sasl.mechanism", secret}}));
    } catch (const std::runtime_error& e) {
        refusal = e.what();
    }
    CHECK(contains(refusal, "cannot create the Kafka client"));
    CHECK_FALSE(contains(refusal, secret));
}

TEST_CASE("cli: --metrics-address is host:port or off, checked when parsing") {
    const std::vector<std::string> run = {"run", "--brokers", "b:1", "--teams", "t.json", "--metrics-address"};
    for (const char* good :
         {"off", "0.0.0.0:9464", "127.0.0.1:0", "localhost:65535", "[::1]:9464", "[::]:0", "metrics-1.internal:80"}) {
        CAPTURE(good);
        CHECK_FALSE(parse(with(run, {good})).status.has_value());
    }
    for (const std::string& bad :
         {std::string(secret), std::string("sasl.password:") + secret, std::string("host:65536"), std::string("host:"),
          std::string(":9464"), std::string("::1:9464"), std::string("[::1]"), std::string("[zz]:80"),
          std::string("a b:80"), std::string("host:80x"), std::string("host:-1"), std::string("")}) {
        CAPTURE(bad);
        for (const char* command : {"run", "demo"}) {
            const Outcome outcome =
                command == std::string("run") ? parse(with(run, {bad})) : parse({"demo", "--metrics-address", bad});
            CHECK(outcome.status == 2);
            CHECK(contains(outcome.err, "--metrics-address must be host:port"));
            CHECK_FALSE(contains(outcome.err, secret));
        }
    }
}

TEST_CASE("cli: --max-message-bytes below the core's minimum is refused when parsing, by every command") {
    const std::vector<std::vector<std::string>> commands = {
        {"run", "--brokers", "b:1", "--teams", "t.json"},
        {"replay", "--brokers", "b:1", "--teams", "t.json"},
        {"process", "--teams", "t.json", "--input", "-", "--output-dir", "o"},
    };
    for (const auto& command : commands) {
        CAPTURE(command.front());
        const Outcome small = parse(with(command, {"--max-message-bytes", "1023"}));
        CHECK(small.status == 2);
        CHECK(contains(small.err, "--max-message-bytes must be a whole number of at least 1024"));
        CHECK_FALSE(parse(with(command, {"--max-message-bytes", "1024"})).status.has_value());
    }
}

TEST_CASE("cli: every topic setting takes a Kafka topic name only") {
    const std::vector<std::pair<std::vector<std::string>, std::vector<std::string>>> commands = {
        {{"run", "--brokers", "b:1", "--teams", "t.json"},
         {"--input-topic", "--analytics-topic", "--error-tracking-topic", "--heatmaps-topic", "--dlq-topic"}},
        {{"replay", "--brokers", "b:1", "--teams", "t.json"},
         {"--topic", "--analytics-topic", "--error-tracking-topic", "--heatmaps-topic", "--dlq-topic"}},
        {{"process", "--teams", "t.json", "--input", "-", "--output-dir", "o"},
         {"--analytics-topic", "--error-tracking-topic", "--heatmaps-topic", "--dlq-topic"}},
        {{"demo"}, {"--analytics-topic", "--error-tracking-topic", "--heatmaps-topic", "--dlq-topic"}},
        {{"mock-cluster"},
         {"--input-topic", "--analytics-topic", "--error-tracking-topic", "--heatmaps-topic", "--dlq-topic"}},
    };
    const std::string longest(249, 'a');
    for (const auto& [command, flags] : commands) {
        for (const std::string& flag : flags) {
            CAPTURE(command.front());
            CAPTURE(flag);
            for (const std::string& bad : {std::string(""), std::string("../escaped"), std::string("."),
                                           std::string(".."), longest + "a", std::string("a/b"), std::string("a b"),
                                           std::string("events#1"), std::string("sasl.password:") + secret}) {
                const Outcome outcome = parse(with(command, {flag, bad}));
                CHECK(outcome.status == 2);
                CHECK(contains(outcome.err, flag + " must be a Kafka topic name"));
                CHECK_FALSE(contains(outcome.err, secret));
            }
            for (const std::string& good : {longest, std::string("Events.v2_backfill-1"), std::string("...")}) {
                CHECK_FALSE(parse(with(command, {flag, good})).status.has_value());
            }
        }
    }
}

TEST_CASE("cli: `process --analytics-topic ../escaped` writes nothing outside the output directory") {
    const std::filesystem::path dir =
        std::filesystem::temp_directory_path() / ("warden_escape_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir / "out");
    const Outcome outcome =
        parse_and_run({"process", "--teams", samples + "/teams.json", "--input", samples + "/events.jsonl",
                       "--output-dir", (dir / "out").string(), "--analytics-topic", "../escaped"});
    CHECK(outcome.status == 2);
    CHECK_FALSE(std::filesystem::exists(dir / "escaped.jsonl"));
    std::filesystem::remove_all(dir);
}

TEST_CASE("cli: an output topic equal to the input topic is refused, naming both settings") {
    const std::vector<std::string> run = {"run",    "--brokers",         "127.0.0.1:1", "--teams",
                                          no_teams, "--metrics-address", "off"};
    const std::vector<std::string> replay = {"replay", "--brokers", "127.0.0.1:1", "--teams", no_teams};
    const std::vector<std::pair<std::vector<std::string>, std::pair<std::string, std::string>>> loops = {
        {with(run, {"--dlq-topic", "events_plugin_ingestion"}), {"--dlq-topic", "--input-topic"}},
        {with(run, {"--input-topic", "capture", "--analytics-topic", "capture"}),
         {"--analytics-topic", "--input-topic"}},
        {with(run, {"--input-topic", "capture", "--error-tracking-topic", "capture"}),
         {"--error-tracking-topic", "--input-topic"}},
        {with(replay, {"--topic", "capture", "--heatmaps-topic", "capture"}), {"--heatmaps-topic", "--topic"}},
        {with(replay, {"--dlq-topic", "events_plugin_ingestion"}), {"--dlq-topic", "--topic"}},
        {{"demo", "--events", "10", "--metrics-address", "off", "--dlq-topic", "events_plugin_ingestion"},
         {"--dlq-topic", "input topic"}},
    };
    for (const auto& [args, flags] : loops) {
        CAPTURE(args);
        const Outcome outcome = parse_and_run(args);
        CHECK(outcome.status == 2);
        CHECK(contains(outcome.err, flags.first + " names the same topic as"));
        CHECK(contains(outcome.err, flags.second));
    }
}

TEST_CASE("cli: dead letters have a topic of their own; enriched outputs may share one") {
    const std::filesystem::path dir =
        std::filesystem::temp_directory_path() / ("warden_shared_" + std::to_string(::getpid()));
    const std::vector<std::string> process = {
        "process",      "--teams",   samples + "/teams.json", "--input", samples + "/events.jsonl",
        "--output-dir", dir.string()};
    for (const char* flag : {"--analytics-topic", "--error-tracking-topic", "--heatmaps-topic"}) {
        CAPTURE(flag);
        const Outcome outcome = parse_and_run(with(process, {flag, "events_dlq"}));
        CHECK(outcome.status == 2);
        CHECK(contains(outcome.err, std::string("--dlq-topic names the same topic as ") + flag));
        CHECK(contains(outcome.err, "dead letters are raw inputs"));
    }
    CHECK_FALSE(std::filesystem::exists(dir));
    // The enriched outputs may share a topic: counted once per topic, their records in one file.
    const Outcome shared =
        parse_and_run(with(process, {"--analytics-topic", "events", "--error-tracking-topic", "events"}));
    CHECK(shared.status == 0);
    CHECK(std::filesystem::exists(dir / "events.jsonl"));
    CHECK_FALSE(std::filesystem::exists(dir / "events_error_tracking.jsonl"));
    std::filesystem::remove_all(dir);
    // Distinct names, on the other hand, are all taken.
    const Outcome distinct = parse_and_run(with(process, {"--analytics-topic", "a", "--error-tracking-topic", "e",
                                                          "--heatmaps-topic", "h", "--dlq-topic", "d"}));
    CHECK(distinct.status == 0);
    for (const char* file : {"a.jsonl", "e.jsonl", "h.jsonl", "d.jsonl"}) CHECK(std::filesystem::exists(dir / file));
    std::filesystem::remove_all(dir);
}

TEST_CASE("cli: transactions are set by the processing guarantee only, never by a Kafka property") {
    const std::vector<std::string> run = {
        "run", "--brokers", "127.0.0.1:1", "--teams", samples + "/teams.json", "--metrics-address", "off"};
    // A transactional producer outside the exactly-once loop would produce outside any transaction.
    for (const char* option : {"--producer-property", "--kafka-property"}) {
        CAPTURE(option);
        const Outcome outcome = parse_and_run(with(run, {option, "transactional.id=mine"}));
        CHECK(outcome.status == 2);
        CHECK(contains(outcome.err, "--processing-guarantee exactly-once"));
    }
    Outcome outcome = parse_and_run(with(run, {"--transactional-id", "mine"}));
    CHECK(outcome.status == 2);
    CHECK(contains(outcome.err, "--transactional-id applies to --processing-guarantee exactly-once only"));
    outcome = parse_and_run(with(run, {"--processing-guarantee", "twice"}));
    CHECK(outcome.status == 2);
}
