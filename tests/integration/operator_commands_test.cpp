// The operator commands against the cluster: `loadgen` and `produce` write what they were asked
// to write; `check` reads the group's offsets; `dlq inspect` and `dlq redrive` count and resend
// dead letters. Each refuses a missing topic or unreachable brokers with a clear exit 1.
#include <doctest/doctest.h>

#include "integration_checks.hpp"
#include "kafka_test_support.hpp"
#include "ops_probe.hpp"

#include <warden/files.hpp>
#include <warden/kafka_handles.hpp>
#include <warden/loadgen.hpp>

#include <algorithm>
#include <csignal>
#include <fstream>

using namespace itest;

namespace {

std::optional<std::string_view> bytes_of(const void* data, size_t size) {
    if (!data) return std::nullopt;
    return std::string_view(static_cast<const char*>(data), size);
}

// Every message of `topic`, in canonical form (see canonical_record), sorted.
std::vector<std::string> read_topic(const TestCluster& cluster, const std::string& topic, size_t expected) {
    warden::kafka::ConfPtr conf = warden::kafka::make_conf({{"bootstrap.servers", cluster.brokers()},
                                                            {"group.id", "itest-topic-reader"},
                                                            {"auto.offset.reset", "earliest"}});
    warden::kafka::ClientPtr consumer = warden::kafka::make_client(RD_KAFKA_CONSUMER, std::move(conf));
    warden::kafka::PartitionListPtr all = warden::kafka::make_partition_list(input_partitions);
    for (int32_t p = 0; p < input_partitions; ++p) {
        rd_kafka_topic_partition_list_add(all.get(), topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_assign(consumer.get(), all.get());
    std::vector<std::string> records;
    const auto deadline = Clock::now() + 60s;
    while (records.size() < expected && Clock::now() < deadline) {
        warden::kafka::MessagePtr m(rd_kafka_consumer_poll(consumer.get(), 100));
        if (!m || m->err) continue;
        std::vector<warden::HeaderView> headers;
        rd_kafka_headers_t* list = nullptr;
        if (rd_kafka_message_headers(m.get(), &list) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            const char* name = nullptr;
            const void* value = nullptr;
            size_t size = 0;
            for (size_t i = 0; rd_kafka_header_get_all(list, i, &name, &value, &size) == 0; ++i) {
                headers.push_back({name, bytes_of(value, size)});
            }
        }
        records.push_back(canonical_record(topic, bytes_of(m->key, m->key_len), bytes_of(m->payload, m->len), headers));
    }
    std::sort(records.begin(), records.end());
    return records;
}

std::unique_ptr<ChildProcess> start_warden(const TestCluster& cluster, const std::string& name,
                                           std::vector<std::string> args) {
    args.insert(args.begin(), warden_path);
    return std::make_unique<ChildProcess>(args, cluster.dir() / name);
}

// loadgen of 5 events and produce of a one-line file, without brokers or topic.
std::vector<std::vector<std::string>> both_commands(const TestCluster& cluster) {
    const std::filesystem::path input = cluster.dir() / "one.jsonl";
    std::ofstream(input) << "{\"payload\":\"x\"}\n";
    return {{"loadgen", "--events", "5"}, {"produce", "--input", input.string()}};
}

}  // namespace

TEST_CASE("loadgen writes the generated stream of its seed, and the teams it belongs to") {
    TestCluster cluster;
    constexpr size_t events = 3000;
    const std::filesystem::path teams = cluster.dir() / "loadgen-teams.json";
    auto loadgen = start_warden(cluster, "loadgen",
                                {"loadgen", "--brokers", cluster.brokers(), "--topic", cluster.input_topic(),
                                 "--events", std::to_string(events), "--rate", "0", "--seed", "9", "--teams",
                                 std::to_string(team_count), "--teams-file", teams.string()});
    INFO("loadgen stderr:\n" << loadgen->stderr_tail());
    REQUIRE(loadgen->wait_exit(60s) == 0);
    CHECK(loadgen->stdout_text().find("\"sent\":3000,\"delivered\":3000,\"failed\":0,\"complete\":true") !=
          std::string::npos);

    std::vector<std::string> expected;
    warden::loadgen::EventGenerator generator(9, team_count);
    for (size_t n = 0; n < events; ++n) {
        const warden::loadgen::GeneratedMessage m = generator.next(n);
        std::vector<warden::HeaderView> headers;
        for (const auto& [name, value] : m.headers) headers.push_back({name, value});
        expected.push_back(canonical_record(cluster.input_topic(), m.key, m.value, headers));
    }
    std::sort(expected.begin(), expected.end());
    CHECK(read_topic(cluster, cluster.input_topic(), events) == expected);

    // The teams file is the one `run --teams` reads for that stream.
    std::ifstream in(teams);
    const std::string written((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(written == warden::loadgen::teams_json(team_count) + "\n");
}

TEST_CASE("produce writes each envelope's key, headers and payload, and other lines whole") {
    TestCluster cluster;
    const std::filesystem::path input = cluster.dir() / "envelopes.jsonl";
    const std::vector<std::string> lines = {
        R"({"topic":"x","partition":3,"offset":7,"key":"phc_a:user-1","headers":["token","phc_a","now","2024-01-01"],"payload":"{\"event\":\"$pageview\"}"})",
        R"({"key":null,"headers":["empty-value",null],"payload":"{\"event\":\"no key\"}"})",
        R"({"key":"tombstone","payload":null})",
        "",
        "   ",
        "a bare line, sent whole\r",
        R"({"payload": "not closed")",
    };
    {
        std::ofstream out(input, std::ios::binary);
        for (const std::string& line : lines) out << line << '\n';
    }
    auto produce = start_warden(
        cluster, "produce",
        {"produce", "--brokers", cluster.brokers(), "--topic", cluster.input_topic(), "--input", input.string()});
    INFO("produce stderr:\n" << produce->stderr_tail());
    REQUIRE(produce->wait_exit(60s) == 0);
    CHECK(produce->stdout_text().find("\"sent\":5,\"delivered\":5,\"failed\":0,\"complete\":true") !=
          std::string::npos);

    // What `process` would read from the same lines (blank lines are no messages).
    std::vector<std::string> expected;
    int64_t number = 0;
    for (std::string line : lines) {
        ++number;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos) continue;
        const warden::OwnedMessage m = warden::parse_input_line(line, number - 1);
        expected.push_back(canonical_record(cluster.input_topic(), m.key, m.value, m.headers.views()));
    }
    std::sort(expected.begin(), expected.end());
    REQUIRE(expected.size() == 5);
    CHECK(read_topic(cluster, cluster.input_topic(), expected.size()) == expected);
}

TEST_CASE("loadgen and produce refuse a missing topic, naming it, and create nothing") {
    TestCluster cluster;
    for (std::vector<std::string> args : both_commands(cluster)) {
        const std::string command = args[0];
        args.insert(args.end(), {"--brokers", cluster.brokers(), "--topic", "events_plugin_ingestoin"});
        auto child = start_warden(cluster, command + "-typo", args);
        INFO(command << " stderr:\n" << child->stderr_tail());
        CHECK(child->wait_exit(60s) == 1);
        CHECK(child->stderr_text().find("events_plugin_ingestoin (--topic) does not exist") != std::string::npos);
    }
    CHECK(listed_topics(cluster.brokers()).count("events_plugin_ingestoin") == 0);
}

TEST_CASE("loadgen and produce give up on unreachable brokers after --broker-wait-ms, naming them") {
    TestCluster cluster;
    for (std::vector<std::string> args : both_commands(cluster)) {
        const std::string command = args[0];
        args.insert(args.end(), {"--brokers", "127.0.0.1:1", "--broker-wait-ms", "2000"});
        const auto started = Clock::now();
        auto child = start_warden(cluster, command + "-unreachable", args);
        INFO(command << " stderr:\n" << child->stderr_tail());
        CHECK(child->wait_exit(30s) == 1);
        CHECK(Clock::now() - started < scaled(15s));
        CHECK(child->stderr_text().find("cannot reach the Kafka brokers at 127.0.0.1:1") != std::string::npos);
        CHECK(child->stdout_text().empty());  // nothing was sent, so no summary
    }
}

TEST_CASE("produce refuses an unreadable input and bad settings before contacting anything") {
    TestCluster cluster;
    auto missing = start_warden(cluster, "produce-missing",
                                {"produce", "--brokers", cluster.brokers(), "--topic", cluster.input_topic(), "--input",
                                 (cluster.dir() / "nothing-here.jsonl").string()});
    CHECK(missing->wait_exit(30s) == 1);
    CHECK(missing->stderr_text().find("cannot open the input file") != std::string::npos);
    auto no_input = start_warden(cluster, "produce-no-input", {"produce", "--brokers", cluster.brokers()});
    CHECK(no_input->wait_exit(30s) == 2);
    CHECK(no_input->stderr_text().find("--input is required") != std::string::npos);
    auto bad_rate = start_warden(cluster, "loadgen-rate", {"loadgen", "--brokers", cluster.brokers(), "--rate", "-5"});
    CHECK(bad_rate->wait_exit(30s) == 2);
    CHECK(bad_rate->stderr_text().find("--rate") != std::string::npos);
}

TEST_CASE("loadgen --events 0 runs until SIGTERM, then exits 0 with everything it sent acknowledged") {
    TestCluster cluster;
    auto loadgen = start_warden(cluster, "loadgen-endless",
                                {"loadgen", "--brokers", cluster.brokers(), "--topic", cluster.input_topic(),
                                 "--events", "0", "--rate", "500"});
    INFO("loadgen stderr:\n" << loadgen->stderr_tail());
    std::this_thread::sleep_for(3s);
    CHECK(stop_worker(*loadgen) == 0);
    const std::string summary = loadgen->stdout_text();
    INFO("summary: " << summary);
    CHECK(summary.find("\"failed\":0,\"complete\":false") != std::string::npos);
    const size_t sent_at = summary.find("\"sent\":");
    REQUIRE(sent_at != std::string::npos);
    const long sent = std::stol(summary.substr(sent_at + 7));
    CHECK(sent > 100);
    CHECK(summary.find("\"delivered\":" + std::to_string(sent) + ",") != std::string::npos);
}

// `warden check` with run's flags against a group that consumed a corpus: every check passes, the
// group's offsets are all committed and nothing is behind; a real broker also describes the group.
TEST_CASE("check reads the group's committed offsets and lag, and describes the group where the brokers can") {
    TestCluster cluster;
    Corpus corpus = Corpus::generate(31, 400);
    InputProducer input(cluster, corpus);
    input.produce(0, corpus.messages.size());
    REQUIRE(input.flush(30s));
    const std::filesystem::path teams = cluster.dir() / "teams.json";
    std::ofstream(teams) << cluster.teams_json();

    auto worker = cluster.start_worker("checked", "worker");
    INFO("worker stderr:\n" << worker->stderr_tail());
    GroupOffsets offsets(cluster, "checked");
    REQUIRE(offsets.wait_all_committed(60s));

    const auto check_group = [&](const std::string& name) {
        std::vector<std::string> args = {"check",   "--brokers",    cluster.brokers(), "--group", "checked",
                                         "--teams", teams.string(), "--timeout-ms",    "10000"};
        const std::vector<std::string> topics = cluster.topic_flags("--input-topic");
        args.insert(args.end(), topics.begin(), topics.end());
        auto check = start_warden(cluster, name, args);
        INFO("check stderr:\n" << check->stderr_tail());
        REQUIRE(check->wait_exit(60s) == 0);
        return check->stdout_text();
    };
    const std::string with_member = check_group("check-member");
    INFO("check stdout:\n" << with_member);
    const std::string all_committed = "committed offsets on " + std::to_string(input_partitions) + " of " +
                                      std::to_string(input_partitions) + " partitions of " + cluster.input_topic() +
                                      ", 0 messages behind";
    CHECK(with_member.find(all_committed) != std::string::npos);
    CHECK(with_member.find("all 9 checks passed") != std::string::npos);
    if (cluster.real()) {
        const int members = members_per_worker();
        CHECK(with_member.find("; state Stable, " + std::to_string(members) +
                               (members == 1 ? " member" : " members")) != std::string::npos);
    } else {
        CHECK(with_member.find("the brokers do not describe groups") != std::string::npos);
    }
    CHECK(stop_worker(*worker) == 0);

    // Inputs added after the group stopped are its lag.
    Corpus more = Corpus::generate(32, 25);
    InputProducer later(cluster, more);
    later.produce(0, more.messages.size());
    REQUIRE(later.flush(30s));
    const std::string stopped = check_group("check-stopped");
    INFO("check stdout:\n" << stopped);
    CHECK(stopped.find(", 25 messages behind") != std::string::npos);
    if (cluster.real()) CHECK(stopped.find("; state Empty, 0 members") != std::string::npos);
}

// `warden dlq inspect` and `warden dlq redrive` on the cluster: dead letters are counted, sent
// through again as the inputs they were, and the one that fails again comes back with
// dlq_attempts 2; an unreachable broker and a missing topic are refused with exit 1.
TEST_CASE("dlq inspect counts the dead letters and dlq redrive sends them through again") {
    TestCluster cluster;
    const std::string& dlq = cluster.topics().dead_letter;
    const std::filesystem::path teams = cluster.dir() / "teams.json";
    std::ofstream(teams) << cluster.teams_json();
    {
        // Two generated events and a malformed value, dead-lettered as too large from input partition 5.
        warden::CaptureProducer producer(cluster.brokers(), dlq);
        warden::loadgen::EventGenerator generator(5, team_count);
        const auto dead_letter = [&](const std::string& key, const std::string& value,
                                     warden::CaptureProducer::Headers headers, int64_t offset) {
            headers.insert(headers.end(), {{"dlq_reason", "message_too_large"},
                                           {"dlq_step", "check_size"},
                                           {"dlq_topic", cluster.input_topic()},
                                           {"dlq_partition", "5"},
                                           {"dlq_offset", std::to_string(offset)}});
            REQUIRE(producer.send(key, value, headers));
        };
        for (int64_t n = 0; n < 2; ++n) {
            warden::loadgen::GeneratedMessage m = generator.next(static_cast<uint64_t>(n));
            dead_letter(m.key, m.value, m.headers, 100 + n);
        }
        dead_letter("broken", "{not json", {}, 102);
        REQUIRE(producer.flush(30s));
    }
    const auto command = [&](const std::string& name, std::vector<std::string> args, int expected_exit) {
        auto process = start_warden(cluster, name, std::move(args));
        INFO(name << " stderr:\n" << process->stderr_tail());
        REQUIRE(process->wait_exit(120s) == expected_exit);
        return std::make_pair(process->stdout_text(), process->stderr_text());
    };

    const auto [counted, counted_log] =
        command("inspect", {"dlq", "inspect", "--brokers", cluster.brokers(), "--dlq-topic", dlq}, 0);
    INFO("inspect: " << counted);
    CHECK(counted.find("\"messages\":3,\"complete\":true") != std::string::npos);
    CHECK(counted.find("\"by_reason\":{\"message_too_large\":3}") != std::string::npos);
    CHECK(counted.find("\"by_source\":{\"" + cluster.input_topic() + "/5\":3}") != std::string::npos);

    std::vector<std::string> redrive = {"dlq",     "redrive",      "--brokers",  cluster.brokers(),
                                        "--teams", teams.string(), "--progress", "none"};
    const std::vector<std::string> topics = cluster.topic_flags("--topic");
    redrive.insert(redrive.end(), topics.begin() + 2, topics.end());  // the outputs; the input is the DLQ
    const auto [summary, redrive_log] = command("redrive", redrive, 0);
    INFO("redrive: " << summary);
    CHECK(summary.find("\"kept_back\":{\"attempts_used_up\":0,\"truncated\":0,\"outputs\":0},\"consumed\":3,") !=
          std::string::npos);
    CHECK(summary.find("\"dlq\":{\"failed_parse_message\":1}") != std::string::npos);

    // The one that failed again, back with its attempt counted and its original source.
    const auto [recounted, recounted_log] =
        command("inspect-again", {"dlq", "inspect", "--brokers", cluster.brokers(), "--dlq-topic", dlq}, 0);
    INFO("inspect again: " << recounted);
    CHECK(recounted.find("\"messages\":4,\"complete\":true") != std::string::npos);
    CHECK(recounted.find("\"by_reason\":{\"failed_parse_message\":1,\"message_too_large\":3}") != std::string::npos);
    CHECK(recounted.find("\"by_source\":{\"" + cluster.input_topic() + "/5\":4}") != std::string::npos);
    CHECK(recounted.find("\"by_attempts\":{\"1\":3,\"2\":1}") != std::string::npos);

    // Failure paths: nothing answers, or the topic does not exist.
    const auto [unreachable, unreachable_log] =
        command("inspect-unreachable", {"dlq", "inspect", "--brokers", "127.0.0.1:9", "--broker-wait-ms", "1500"}, 1);
    CHECK(unreachable_log.find("warden dlq inspect:") != std::string::npos);
    std::vector<std::string> redrive_unreachable = redrive;
    redrive_unreachable[3] = "127.0.0.1:9";
    redrive_unreachable.insert(redrive_unreachable.end(), {"--broker-wait-ms", "1500"});
    command("redrive-unreachable", redrive_unreachable, 1);
    const auto [missing, missing_log] = command(
        "inspect-missing", {"dlq", "inspect", "--brokers", cluster.brokers(), "--dlq-topic", dlq + "_missing"}, 1);
    CHECK(missing_log.find("(--dlq-topic) does not exist") != std::string::npos);
    std::vector<std::string> redrive_missing = redrive;
    redrive_missing.insert(redrive_missing.end(), {"--dlq-topic", dlq + "_missing"});
    const auto [missing_redrive, missing_redrive_log] = command("redrive-missing", redrive_missing, 1);
    CHECK(missing_redrive_log.find("topic " + dlq + "_missing (--dlq-topic) does not exist") != std::string::npos);
}
