// `warden replay` against the mock cluster: time ranges, fixed end offsets, kill and resume,
// dry runs, determinism.
#include "integration_checks.hpp"
#include "kafka_test_support.hpp"

#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <csignal>
#include <fstream>
#include <map>
#include <set>

using namespace itest;

namespace {

// The expected records of a replay carry the `replayed: true` header last.
std::vector<std::string> as_replayed(const std::vector<std::string>& records) {
    const std::string plain = canonical_record("", std::nullopt, std::nullopt, {});
    const std::string marked = canonical_record("", std::nullopt, std::nullopt, {{"replayed", "true"}});
    const std::string suffix = marked.substr(plain.size());
    std::vector<std::string> out;
    for (const std::string& r : records) out.push_back(r + suffix);
    return out;
}

// The expectation of corpus messages [first, last) only.
std::vector<std::string> expected_slice(const Corpus& corpus, size_t first, size_t last, const std::string& teams) {
    Corpus slice;
    slice.messages.assign(corpus.messages.begin() + static_cast<std::ptrdiff_t>(first),
                          corpus.messages.begin() + static_cast<std::ptrdiff_t>(last));
    slice.placements.assign(corpus.placements.begin() + static_cast<std::ptrdiff_t>(first),
                            corpus.placements.begin() + static_cast<std::ptrdiff_t>(last));
    return as_replayed(expect(slice, teams).records);
}

int64_t epoch_ms_now() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::vector<std::string> replay_args(const TestCluster& cluster, std::vector<std::string> extra) {
    std::vector<std::string> argv = {warden_path, "replay", "--brokers", cluster.brokers(), "--teams",
                                     (cluster.dir() / "teams.json").string(), "--progress", "json"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
}

int run_to_end(const TestCluster& cluster, const std::vector<std::string>& extra, const std::string& name,
               std::string* stdout_text = nullptr) {
    ChildProcess replay(replay_args(cluster, extra), cluster.dir() / name);
    const std::optional<int> code = replay.wait_exit(120s);
    if (stdout_text) *stdout_text = replay.stdout_text();
    if (!code || *code != 0) MESSAGE("replay " << name << " ended with " << (code ? *code : -1) << ":\n" << replay.stderr_tail());
    return code.value_or(-1);
}

}  // namespace

TEST_CASE("replay: a time range replays exactly the messages of that range") {
    TestCluster cluster;
    Corpus corpus = Corpus::generate(11, 900);
    InputProducer producer(cluster.brokers(), corpus);
    producer.produce(0, 300);
    REQUIRE(producer.flush(30s));
    std::this_thread::sleep_for(50ms);
    const int64_t from = epoch_ms_now();
    std::this_thread::sleep_for(50ms);
    producer.produce(300, 600);
    REQUIRE(producer.flush(30s));
    std::this_thread::sleep_for(50ms);
    const int64_t to = epoch_ms_now();
    std::this_thread::sleep_for(50ms);
    producer.produce(600, 900);
    REQUIRE(producer.flush(30s));

    std::string summary;
    REQUIRE(run_to_end(cluster, {"--from", std::to_string(from), "--to", "time:" + std::to_string(to)}, "range", &summary) == 0);
    CHECK_MESSAGE(summary.find("\"consumed\":300,") != std::string::npos, summary);
    const Outputs outputs = read_outputs(cluster.brokers());
    REQUIRE(outputs.complete);
    const Comparison c = compare(expected_slice(corpus, 300, 600, cluster.teams_json()), outputs.records);
    CHECK(c.lost == 0);
    CHECK(c.duplicates == 0);
    CHECK(c.unexpected == 0);
    CHECK(outputs.secret_leaks == 0);
}

TEST_CASE("replay: stops at the end offsets fixed at start while new messages keep arriving") {
    TestCluster cluster;
    Corpus corpus = Corpus::generate(12, 6000);
    InputProducer producer(cluster.brokers(), corpus);
    producer.produce(0, 3000);
    REQUIRE(producer.flush(30s));
    // More messages arrive throughout the replay.
    PacedFeeder feeder(producer, 3000, 6000, 100, 20ms);
    std::string summary;
    REQUIRE(run_to_end(cluster, {"--max-rate", "5000", "--checkpoint", (cluster.dir() / "cp.json").string()}, "moving",
                       &summary) == 0);
    CHECK(feeder.finish(60s));

    // The ends were fixed when the replay started: it replayed exactly the messages below them,
    // although the feeder went on writing after that.
    std::ifstream checkpoint(cluster.dir() / "cp.json");
    const std::string text((std::istreambuf_iterator<char>(checkpoint)), std::istreambuf_iterator<char>());
    std::map<int32_t, int64_t> ends;
    rapidjson::Document doc;
    doc.Parse(text.c_str());
    REQUIRE((doc.IsObject() && doc.HasMember("partitions") && doc["partitions"].IsArray()));
    for (const auto& p : doc["partitions"].GetArray()) ends[p["partition"].GetInt()] = p["end"].GetInt64();
    REQUIRE(ends.size() == static_cast<size_t>(input_partitions));
    Corpus replayed;
    for (size_t i = 0; i < corpus.messages.size(); ++i) {
        const Placement& at = corpus.placements[i];
        if (at.offset >= 0 && at.offset < ends[at.partition]) {
            replayed.messages.push_back(corpus.messages[i]);
            replayed.placements.push_back(at);
        }
    }
    MESSAGE("replayed " << replayed.messages.size() << " messages; " << corpus.messages.size() << " were written in all");
    CHECK(replayed.messages.size() >= 3000);
    CHECK(replayed.messages.size() < corpus.messages.size());
    CHECK(summary_consumed(summary) == static_cast<int64_t>(replayed.messages.size()));
    const Outputs outputs = read_outputs(cluster.brokers());
    REQUIRE(outputs.complete);
    const Comparison c = compare(as_replayed(expect(replayed, cluster.teams_json()).records), outputs.records);
    CHECK(c.lost == 0);
    CHECK(c.unexpected == 0);
}

TEST_CASE("replay: killed mid-run and resumed from its checkpoint, nothing is lost") {
    TestCluster cluster;
    Corpus corpus = Corpus::generate(13, 8000);
    InputProducer producer(cluster.brokers(), corpus);
    producer.produce(0, corpus.messages.size());
    REQUIRE(producer.flush(30s));
    const std::string checkpoint = (cluster.dir() / "cp.json").string();
    const std::vector<std::string> args = {"--max-rate", "2000", "--checkpoint", checkpoint};

    {
        ChildProcess first(replay_args(cluster, args), cluster.dir() / "first");
        REQUIRE(first.wait_for_stderr("\"progress\"", 30s));
        std::this_thread::sleep_for(1500ms);
        first.send(SIGKILL);
        REQUIRE(first.wait_exit(10s) == 128 + SIGKILL);
    }
    std::ifstream saved(checkpoint);
    REQUIRE(saved.good());

    std::string summary;
    REQUIRE(run_to_end(cluster, {"--checkpoint", checkpoint}, "resume", &summary) == 0);
    const int64_t resumed_consumed = summary_consumed(summary);
    MESSAGE("resumed run consumed " << resumed_consumed << " of " << corpus.messages.size());
    CHECK(resumed_consumed > 0);
    CHECK(resumed_consumed < static_cast<int64_t>(corpus.messages.size()));  // it continued, not restarted

    const Outputs outputs = read_outputs(cluster.brokers());
    REQUIRE(outputs.complete);
    const Comparison c = compare(expected_slice(corpus, 0, corpus.messages.size(), cluster.teams_json()), outputs.records);
    MESSAGE("kill and resume: " << c.lost << " lost, " << c.duplicates << " duplicates");
    CHECK(c.lost == 0);
    CHECK(c.unexpected == 0);

    // A rerun of a finished checkpoint has nothing left to do.
    REQUIRE(run_to_end(cluster, {"--checkpoint", checkpoint}, "again", &summary) == 0);
    CHECK(summary_consumed(summary) == 0);
}

TEST_CASE("replay: a dry run computes the outcomes and produces nothing") {
    TestCluster cluster;
    Corpus corpus = Corpus::generate(14, 1000);
    InputProducer producer(cluster.brokers(), corpus);
    producer.produce(0, corpus.messages.size());
    REQUIRE(producer.flush(30s));

    std::string dry, real;
    REQUIRE(run_to_end(cluster, {"--dry-run"}, "dry", &dry) == 0);
    const Outputs nothing = read_outputs(cluster.brokers());
    CHECK(nothing.records.empty());
    CHECK(dry.find("\"consumed\":1000,") != std::string::npos);

    // The same replay for real reports the same outcomes.
    REQUIRE(run_to_end(cluster, {}, "real", &real) == 0);
    CHECK(dry.substr(dry.rfind('{')) == real.substr(real.rfind('{')));
}

TEST_CASE("replay: the same input replayed twice gives the same keys and uuids") {
    TestCluster cluster;
    Corpus corpus = Corpus::generate(15, 1500);
    InputProducer producer(cluster.brokers(), corpus);
    producer.produce(0, corpus.messages.size());
    REQUIRE(producer.flush(30s));
    REQUIRE(run_to_end(cluster, {}, "once", nullptr) == 0);
    const Outputs once = read_outputs(cluster.brokers());
    REQUIRE(run_to_end(cluster, {}, "twice", nullptr) == 0);
    const Outputs twice = read_outputs(cluster.brokers());
    REQUIRE(once.complete);
    REQUIRE(twice.complete);
    REQUIRE(twice.records.size() == 2 * once.records.size());
    // Every output of the first replay appears exactly twice after the second, heatmap copies
    // (whose uuid is derived from the source uuid) included.
    const Comparison c = compare(once.records, twice.records);
    CHECK(c.lost == 0);
    CHECK(c.duplicates == once.records.size());
    CHECK(c.unexpected == 0);
    CHECK(std::count_if(once.records.begin(), once.records.end(),
                        [](const std::string& r) { return r.starts_with("events_heatmaps\n"); }) > 0);
}

TEST_CASE("replay: bad ranges, partitions and checkpoints are refused with a clear error") {
    TestCluster cluster;
    ChildProcess bad_position(replay_args(cluster, {"--from", "yesterday"}), cluster.dir() / "pos");
    CHECK(bad_position.wait_exit(30s) == 2);  // a usage error, found before any broker is asked
    CHECK(bad_position.stderr_text().find("--from must be earliest, latest") != std::string::npos);

    ChildProcess bad_partition(replay_args(cluster, {"--partitions", "99"}), cluster.dir() / "part");
    CHECK(bad_partition.wait_exit(30s) == 1);
    CHECK(bad_partition.stderr_text().find("no partition 99") != std::string::npos);

    const auto foreign = cluster.dir() / "foreign.json";
    std::ofstream(foreign) << R"({"version":1,"topic":"other","partitions":[]})";
    ChildProcess wrong_topic(replay_args(cluster, {"--checkpoint", foreign.string()}), cluster.dir() / "topic");
    CHECK(wrong_topic.wait_exit(30s) == 1);
    CHECK(wrong_topic.stderr_text().find("belongs to topic other") != std::string::npos);

    const auto corrupt = cluster.dir() / "corrupt.json";
    std::ofstream(corrupt) << "{not json";
    ChildProcess corrupt_checkpoint(replay_args(cluster, {"--checkpoint", corrupt.string()}), cluster.dir() / "corrupt");
    CHECK(corrupt_checkpoint.wait_exit(30s) == 1);
    CHECK(corrupt_checkpoint.stderr_text().find("not usable") != std::string::npos);
}
