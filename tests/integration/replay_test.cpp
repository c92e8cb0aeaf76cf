// `warden replay` against the test cluster (mock or real broker): time ranges, fixed end offsets, kill and resume,
// dry runs, determinism.
#include "integration_checks.hpp"
#include "kafka_test_support.hpp"
#include "ops_probe.hpp"

#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

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
std::vector<std::string> expected_slice(const Corpus& corpus, size_t first, size_t last, const TestCluster& cluster) {
    Corpus slice;
    slice.messages.assign(corpus.messages.begin() + static_cast<std::ptrdiff_t>(first),
                          corpus.messages.begin() + static_cast<std::ptrdiff_t>(last));
    slice.placements.assign(corpus.placements.begin() + static_cast<std::ptrdiff_t>(first),
                            corpus.placements.begin() + static_cast<std::ptrdiff_t>(last));
    return as_replayed(expect(slice, cluster).records);
}

// Checks the outputs hold corpus messages [first, last), each once, and nothing else.
void check_replayed_exactly(const Corpus& corpus, size_t first, size_t last, const TestCluster& cluster) {
    const Outputs outputs = read_outputs(cluster);
    REQUIRE(outputs.complete);
    const Comparison c = compare(expected_slice(corpus, first, last, cluster), outputs.records);
    CHECK(c.lost == 0);
    CHECK(c.duplicates == 0);
    CHECK(c.unexpected == 0);
    CHECK(outputs.secret_leaks == 0);
}

int64_t epoch_ms_now() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// Produces corpus messages [first, last), then returns a time between them and whatever comes next.
int64_t produce_then_mark(InputProducer& producer, size_t first, size_t last) {
    producer.produce(first, last);
    REQUIRE(producer.flush(30s));
    std::this_thread::sleep_for(50ms);
    const int64_t mark = epoch_ms_now();
    std::this_thread::sleep_for(50ms);
    return mark;
}

std::vector<std::string> replay_args(const TestCluster& cluster, std::vector<std::string> extra) {
    std::vector<std::string> argv = {warden_path,       "replay",  "--brokers",
                                     cluster.brokers(), "--teams", (cluster.dir() / "teams.json").string(),
                                     "--progress",      "json"};
    const std::vector<std::string> topics = cluster.topic_flags("--topic");
    argv.insert(argv.end(), topics.begin(), topics.end());
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
}

int run_to_end(const TestCluster& cluster, const std::vector<std::string>& extra, const std::string& name,
               std::string* stdout_text = nullptr) {
    ChildProcess replay(replay_args(cluster, extra), cluster.dir() / name);
    const std::optional<int> code = replay.wait_exit(120s);
    if (stdout_text) *stdout_text = replay.stdout_text();
    if (!code || *code != 0)
        MESSAGE("replay " << name << " ended with " << (code ? *code : -1) << ":\n" << replay.stderr_tail());
    return code.value_or(-1);
}

// A partition's range as a replay resolved it: [start, end).
struct ResolvedRange {
    int64_t start = -1;
    int64_t end = -1;
};

// The resolved range of each partition, from a replay's checkpoint.
std::map<int32_t, ResolvedRange> checkpoint_ranges(const std::filesystem::path& path) {
    std::ifstream checkpoint(path);
    const std::string text((std::istreambuf_iterator<char>(checkpoint)), std::istreambuf_iterator<char>());
    rapidjson::Document doc;
    doc.Parse(text.c_str());
    REQUIRE((doc.IsObject() && doc.HasMember("partitions") && doc["partitions"].IsArray()));
    std::map<int32_t, ResolvedRange> ranges;
    for (const auto& p : doc["partitions"].GetArray()) {
        ranges[p["partition"].GetInt()] = {p["start"].GetInt64(), p["end"].GetInt64()};
    }
    return ranges;
}

}  // namespace

TEST_CASE("replay: a time range replays exactly the messages of that range") {
    TestCluster cluster;
    Corpus corpus = Corpus::generate(11, 900);
    InputProducer producer(cluster, corpus);
    const int64_t from = produce_then_mark(producer, 0, 300);
    const int64_t to = produce_then_mark(producer, 300, 600);
    producer.produce(600, 900);
    REQUIRE(producer.flush(30s));

    std::string summary;
    REQUIRE(run_to_end(cluster, {"--from", std::to_string(from), "--to", "time:" + std::to_string(to)}, "range",
                       &summary) == 0);
    CHECK_MESSAGE(summary.find("\"consumed\":300,") != std::string::npos, summary);
    check_replayed_exactly(corpus, 300, 600, cluster);
}

TEST_CASE("replay: stops at the end offsets fixed at start while new messages keep arriving") {
    TestCluster cluster;
    Corpus corpus = Corpus::generate(12, 6000);
    InputProducer producer(cluster, corpus);
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
    std::map<int32_t, ResolvedRange> ranges = checkpoint_ranges(cluster.dir() / "cp.json");
    REQUIRE(ranges.size() == static_cast<size_t>(input_partitions));
    Corpus replayed;
    for (size_t i = 0; i < corpus.messages.size(); ++i) {
        const Placement& at = corpus.placements[i];
        if (at.offset >= 0 && at.offset < ranges[at.partition].end) {
            replayed.messages.push_back(corpus.messages[i]);
            replayed.placements.push_back(at);
        }
    }
    MESSAGE("replayed " << replayed.messages.size() << " messages; " << corpus.messages.size()
                        << " were written in all");
    CHECK(replayed.messages.size() >= 3000);
    CHECK(replayed.messages.size() < corpus.messages.size());
    CHECK(summary_consumed(summary) == static_cast<int64_t>(replayed.messages.size()));
    const Outputs outputs = read_outputs(cluster);
    REQUIRE(outputs.complete);
    const Comparison c = compare(as_replayed(expect(replayed, cluster).records), outputs.records);
    CHECK(c.lost == 0);
    CHECK(c.unexpected == 0);
}

TEST_CASE("replay: killed mid-run and resumed from its checkpoint, nothing is lost") {
    TestCluster cluster;
    Corpus corpus = Corpus::generate(13, 8000);
    InputProducer producer(cluster, corpus);
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

    const Outputs outputs = read_outputs(cluster);
    REQUIRE(outputs.complete);
    const Comparison c = compare(expected_slice(corpus, 0, corpus.messages.size(), cluster), outputs.records);
    MESSAGE("kill and resume: " << c.lost << " lost, " << c.duplicates << " duplicates");
    CHECK(c.lost == 0);
    CHECK(c.unexpected == 0);

    // A rerun of a finished checkpoint has nothing left to do.
    REQUIRE(run_to_end(cluster, {"--checkpoint", checkpoint}, "again", &summary) == 0);
    CHECK(summary_consumed(summary) == 0);

    // A rerun that asks for another range is refused: the checkpoint's ranges answer only its own.
    for (const std::vector<std::string>& other :
         {std::vector<std::string>{"--partitions", "0"}, std::vector<std::string>{"--from", "5"},
          std::vector<std::string>{"--to", "2024-06-10T06:13:20Z"}}) {
        std::vector<std::string> extra = {"--checkpoint", checkpoint};
        extra.insert(extra.end(), other.begin(), other.end());
        ChildProcess rerun(replay_args(cluster, extra), cluster.dir() / ("other" + other.front()));
        CHECK(rerun.wait_exit(30s) == 2);
        CHECK(rerun.stderr_text().find(other.front() + " ") != std::string::npos);
        CHECK(rerun.stderr_text().find("delete the checkpoint") != std::string::npos);
    }
}

TEST_CASE("replay: exactly-once, killed again and again, then fenced by a twin, loses and duplicates nothing") {
    if (skipped_on_mock_cluster("transactions")) return;
    constexpr int kills = 4;
    TestCluster cluster;
    Corpus corpus = Corpus::generate(17, 30000);
    InputProducer producer(cluster, corpus);
    producer.produce(0, corpus.messages.size());
    REQUIRE(producer.flush(30s));
    const std::string checkpoint = (cluster.dir() / "cp.json").string();
    const std::vector<std::string> args = {"--max-rate",
                                           "2000",
                                           "--checkpoint",
                                           checkpoint,
                                           "--processing-guarantee",
                                           "exactly-once",
                                           "--transaction-interval-ms",
                                           "200"};
    const unsigned seed = std::random_device{}();
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> delay_ms(200, 1000);
    MESSAGE("exactly-once replay kill test seed " << seed);

    // Each kill leaves a transaction open; the next run's registration aborts it.
    for (int kill = 0; kill < kills; ++kill) {
        ChildProcess run(replay_args(cluster, args), cluster.dir() / ("killed-" + std::to_string(kill)));
        INFO("killed run " << kill << " stderr:\n" << run.stderr_tail());
        REQUIRE(run.wait_for_stderr("\"progress\"", 60s));
        std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
        run.send(SIGKILL);
        REQUIRE(run.wait_exit(10s) == 128 + SIGKILL);
    }

    // Two runs of one checkpoint at once: the second fences the first, which stops committing.
    ChildProcess zombie(replay_args(cluster, args), cluster.dir() / "zombie");
    INFO("zombie stderr:\n" << zombie.stderr_tail());
    REQUIRE(zombie.wait_for_stderr("\"progress\"", 60s));
    std::string summary;
    ChildProcess last(replay_args(cluster, args), cluster.dir() / "last");
    INFO("last run stderr:\n" << last.stderr_tail());
    const std::optional<int> zombie_exit = zombie.wait_exit(60s);
    REQUIRE(zombie_exit);
    CHECK(*zombie_exit == 1);
    CHECK(zombie.stderr_text().find("fenced this producer") != std::string::npos);
    REQUIRE(last.wait_exit(120s) == 0);
    const int64_t resumed_consumed = summary_consumed(last.stdout_text());
    MESSAGE("the last run consumed " << resumed_consumed << " of " << corpus.messages.size());
    CHECK(resumed_consumed < static_cast<int64_t>(corpus.messages.size()));  // it resumed

    const Outputs outputs = read_outputs(cluster);  // read_committed: aborted outputs are not seen
    REQUIRE(outputs.complete);
    const Comparison c = compare(expected_slice(corpus, 0, corpus.messages.size(), cluster), outputs.records);
    std::printf("exactly-once replay after %d kills and a fenced twin: %zu lost, %zu duplicates\n", kills, c.lost,
                c.duplicates);
    std::fflush(stdout);
    CHECK(c.lost == 0);
    CHECK(c.duplicates == 0);
    CHECK(c.unexpected == 0);
    CHECK(outputs.secret_leaks == 0);

    // Finished: a rerun has nothing left to do.
    REQUIRE(run_to_end(cluster, {"--checkpoint", checkpoint, "--processing-guarantee", "exactly-once"}, "again",
                       &summary) == 0);
    CHECK(summary_consumed(summary) == 0);
}

TEST_CASE("replay: a dry run computes the outcomes and produces nothing") {
    TestCluster cluster;
    Corpus corpus = Corpus::generate(14, 1000);
    InputProducer producer(cluster, corpus);
    producer.produce(0, corpus.messages.size());
    REQUIRE(producer.flush(30s));

    std::string dry, real;
    REQUIRE(run_to_end(cluster, {"--dry-run"}, "dry", &dry) == 0);
    const Outputs nothing = read_outputs(cluster);
    CHECK(nothing.records.empty());
    CHECK(dry.find("\"consumed\":1000,") != std::string::npos);

    // The same replay for real reports the same outcomes.
    REQUIRE(run_to_end(cluster, {}, "real", &real) == 0);
    CHECK(dry.substr(dry.rfind('{')) == real.substr(real.rfind('{')));
}

TEST_CASE("replay: the same input replayed twice gives the same keys and uuids") {
    TestCluster cluster;
    Corpus corpus = Corpus::generate(15, 1500);
    InputProducer producer(cluster, corpus);
    producer.produce(0, corpus.messages.size());
    REQUIRE(producer.flush(30s));
    REQUIRE(run_to_end(cluster, {}, "once", nullptr) == 0);
    const Outputs once = read_outputs(cluster);
    REQUIRE(run_to_end(cluster, {}, "twice", nullptr) == 0);
    const Outputs twice = read_outputs(cluster);
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
                        [&](const std::string& r) { return r.starts_with(cluster.topics().heatmaps + "\n"); }) > 0);
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
    CHECK(wrong_topic.wait_exit(30s) == 2);
    CHECK(wrong_topic.stderr_text().find("belongs to topic other") != std::string::npos);

    const auto corrupt = cluster.dir() / "corrupt.json";
    std::ofstream(corrupt) << "{not json";
    ChildProcess corrupt_checkpoint(replay_args(cluster, {"--checkpoint", corrupt.string()}),
                                    cluster.dir() / "corrupt");
    CHECK(corrupt_checkpoint.wait_exit(30s) == 1);
    CHECK(corrupt_checkpoint.stderr_text().find("not usable") != std::string::npos);

    // A checkpoint of a partition the topic does not have (recreated with fewer partitions, say).
    const auto vanished = cluster.dir() / "vanished.json";
    std::ofstream(vanished) << R"({"version":2,"topic":")" << cluster.input_topic() << R"(",)"
                            << R"("range":{"from":"earliest","to":"latest","partitions":"all"},)"
                            << R"("partitions":[{"partition":99,"start":0,"end":10,"acked":0}]})";
    ChildProcess vanished_partition(replay_args(cluster, {"--checkpoint", vanished.string()}),
                                    cluster.dir() / "vanished");
    CHECK(vanished_partition.wait_exit(30s) == 1);
    CHECK(vanished_partition.stderr_text().find("names partition 99") != std::string::npos);
}

namespace {

// The create times of every record of `topic` (all output partitions), in milliseconds.
std::vector<int64_t> record_times(const TestCluster& cluster, const std::string& topic) {
    warden::kafka::ClientPtr consumer = warden::kafka::make_client(
        RD_KAFKA_CONSUMER, warden::kafka::make_conf({{"bootstrap.servers", cluster.brokers()},
                                                     {"group.id", "itest-times"},
                                                     {"enable.auto.commit", "false"},
                                                     {"fetch.wait.max.ms", "10"}}));
    rd_kafka_poll_set_consumer(consumer.get());
    warden::kafka::PartitionListPtr assignment = warden::kafka::make_partition_list(cluster.output_partitions());
    int64_t remaining = 0;
    for (int32_t p = 0; p < cluster.output_partitions(); ++p) {
        int64_t low = 0, high = 0;
        REQUIRE(rd_kafka_query_watermark_offsets(consumer.get(), topic.c_str(), p, &low, &high, 5000) == 0);
        remaining += high - low;
        rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_assign(consumer.get(), assignment.get());
    std::vector<int64_t> times;
    const auto deadline = Clock::now() + 30s;
    while (remaining > 0 && Clock::now() < deadline) {
        warden::kafka::MessagePtr m(rd_kafka_consumer_poll(consumer.get(), 100));
        if (!m || m->err) continue;
        rd_kafka_timestamp_type_t type;
        times.push_back(rd_kafka_message_timestamp(m.get(), &type));
        --remaining;
    }
    REQUIRE(remaining == 0);
    std::sort(times.begin(), times.end());
    return times;
}

// A replay that must refuse to start because `missing` does not exist: exit 1, `named` in its
// error, and the topic not created by the check.
void check_refused_topic(const std::vector<std::string>& flags, const std::string& missing, const std::string& named) {
    TestCluster cluster;
    ChildProcess replay(replay_args(cluster, flags), cluster.dir() / "refused");
    CHECK(replay.wait_exit(30s) == 1);
    CHECK(replay.stderr_text().find(named) != std::string::npos);
    CHECK(listed_topics(cluster.brokers()).count(missing) == 0);
}

// The most records whose times fall within any `window` milliseconds.
size_t busiest_window(const std::vector<int64_t>& sorted_times, int64_t window) {
    size_t most = 0;
    for (size_t first = 0, last = 0; last < sorted_times.size(); ++last) {
        while (sorted_times[last] - sorted_times[first] >= window) ++first;
        most = std::max(most, last - first + 1);
    }
    return most;
}

}  // namespace

TEST_CASE("replay: a topic that does not exist is refused with exit 1 and not created") {
    check_refused_topic({"--topic", "nope"}, "nope", "nope (--topic) does not exist");
}

TEST_CASE("replay: a missing output topic is refused before anything is read") {
    check_refused_topic({"--analytics-topic", "events_analytic"}, "events_analytic",
                        "events_analytic (--analytics-topic) does not exist");
}

TEST_CASE("replay: unreachable brokers end it with exit 1 and the cause after a bounded wait") {
    TestCluster cluster;
    const auto started = Clock::now();
    ChildProcess replay(replay_args(cluster, {"--brokers", "127.0.0.1:1", "--broker-wait-ms", "3000"}),
                        cluster.dir() / "unreachable");
    const std::optional<int> code = replay.wait_exit(30s);
    const auto waited = Clock::now() - started;
    INFO("replay stderr:\n" << replay.stderr_tail());
    REQUIRE(code);
    CHECK(*code == 1);
    CHECK(waited >= 3s);
    CHECK(waited < 15s);
    const std::string err = replay.stderr_text();
    CHECK(err.find("cannot reach the Kafka brokers at 127.0.0.1:1") != std::string::npos);
    CHECK(err.find("Connection refused") != std::string::npos);
}

TEST_CASE("replay: a range that turns out inverted once resolved is refused with exit 1") {
    TestCluster cluster;
    Corpus corpus = Corpus::generate(16, 400);
    InputProducer producer(cluster, corpus);
    const int64_t middle = produce_then_mark(producer, 0, 200);
    producer.produce(200, 400);
    REQUIRE(producer.flush(30s));

    // From a time that falls after offset 3 of every partition, to offset 3.
    ChildProcess replay(replay_args(cluster, {"--from", "time:" + std::to_string(middle), "--to", "offset:3"}),
                        cluster.dir() / "inverted");
    const std::optional<int> code = replay.wait_exit(60s);
    INFO("replay stderr:\n" << replay.stderr_tail());
    REQUIRE(code);
    CHECK(*code == 1);
    CHECK(replay.stderr_text().find("inverted") != std::string::npos);
    CHECK(summary_consumed(replay.stdout_text()) == -1);  // refused before anything was read
    CHECK(read_outputs(cluster).records.empty());
}

TEST_CASE("replay: a leadership change while the range is resolved is waited out, not fatal") {
    if (skipped_on_real_broker("injected ListOffsets errors")) return;
    TestCluster cluster;
    Corpus corpus = Corpus::generate(17, 300);
    InputProducer producer(cluster, corpus);
    const int64_t from = produce_then_mark(producer, 0, 150);
    producer.produce(150, 300);
    REQUIRE(producer.flush(30s));

    // The replay is the only client listing offsets, so its lookups meet these in order: the
    // first offsets (failed once), the next offsets, then partition 0's offset by time (failed
    // twice). One leader answers each lookup for all the partitions it leads.
    constexpr int16_t list_offsets_api_key = 2;  // RD_KAFKAP_ListOffsets, not in the public headers
    constexpr auto not_leader = RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION;
    constexpr auto none = RD_KAFKA_RESP_ERR_NO_ERROR;
    REQUIRE(rd_kafka_mock_broker_push_request_error_rtts(cluster.mock(), 1, list_offsets_api_key, 5, not_leader, 0,
                                                         none, 0, none, 0, not_leader, 0, not_leader, 0) == none);
    std::string summary;
    REQUIRE(run_to_end(cluster, {"--from", "time:" + std::to_string(from)}, "leader-change", &summary) == 0);
    size_t pending = 0;
    REQUIRE(rd_kafka_mock_broker_error_stack_cnt(cluster.mock(), 1, list_offsets_api_key, &pending) == none);
    CHECK(pending == 0);
    CHECK_MESSAGE(summary.find("\"consumed\":150,") != std::string::npos, summary);
    check_replayed_exactly(corpus, 150, 300, cluster);
}

TEST_CASE("replay: --max-rate paces every message, and the JSON progress stays bounded") {
    constexpr int rate = 1000;
    TestCluster cluster;
    Corpus corpus = Corpus::generate(17, 3000);
    InputProducer producer(cluster, corpus);
    producer.produce(0, corpus.messages.size());
    REQUIRE(producer.flush(30s));

    ChildProcess replay(replay_args(cluster, {"--max-rate", std::to_string(rate)}), cluster.dir() / "paced");
    REQUIRE(replay.wait_exit(60s) == 0);
    INFO("replay stderr:\n" << replay.stderr_tail());
    CHECK(summary_consumed(replay.stdout_text()) == static_cast<int64_t>(corpus.messages.size()));

    // Each input gives at most one analytics output, so analytics records are paced like inputs:
    // no 200 ms may hold more than 200 ms of the rate plus the burst (a tenth of a second's worth).
    const std::vector<int64_t> times = record_times(cluster, cluster.topics().analytics);
    REQUIRE(times.size() > 1000);
    const size_t busiest = busiest_window(times, 200);
    const double seconds = static_cast<double>(times.back() - times.front()) / 1000;
    MESSAGE("replay at --max-rate " << rate << ": " << times.size() << " analytics outputs over " << seconds
                                    << " s, at most " << busiest << " in any 200 ms");
    CHECK(busiest <= rate / 5 + rate / 10 + 20);
    CHECK(seconds >= static_cast<double>(times.size() - rate / 10) / rate - 0.1);

    // Progress lines: JSON with the totals and a bounded list of the slowest partitions.
    std::istringstream lines(replay.stderr_text());
    std::string line;
    size_t progress_lines = 0;
    while (std::getline(lines, line)) {
        if (line.rfind("{\"progress\"", 0) != 0) continue;
        rapidjson::Document doc;
        doc.Parse(line.c_str());
        REQUIRE_MESSAGE(!doc.HasParseError(), line);
        REQUIRE(doc.IsObject());
        const auto& p = doc["progress"];
        for (const char* field : {"total", "done", "remaining", "elapsed_s", "rate", "partitions_total", "slowest"}) {
            REQUIRE_MESSAGE(p.HasMember(field), field);
        }
        CHECK(p["total"].GetInt64() == static_cast<int64_t>(corpus.messages.size()));
        CHECK(p["partitions_total"].GetInt() == input_partitions);
        REQUIRE(p["slowest"].IsArray());
        CHECK(p["slowest"].Size() <= 5);
        CHECK(p["elapsed_s"].IsNumber());
        ++progress_lines;
    }
    CHECK(progress_lines >= 2);
}

namespace {

// Writes one message per timestamp to `partition` of the input topic, in order, with that
// message timestamp (milliseconds).
void produce_at_times(const TestCluster& cluster, int32_t partition, const std::vector<int64_t>& times) {
    warden::kafka::ClientPtr producer = warden::kafka::make_client(
        RD_KAFKA_PRODUCER,
        warden::kafka::make_conf({{"bootstrap.servers", cluster.brokers()}, {"enable.idempotence", "true"}}));
    for (int64_t time : times) {
        std::string value = "not an event";
        REQUIRE(rd_kafka_producev(producer.get(), RD_KAFKA_V_TOPIC(cluster.input_topic().c_str()),
                                  RD_KAFKA_V_PARTITION(partition), RD_KAFKA_V_VALUE(value.data(), value.size()),
                                  RD_KAFKA_V_TIMESTAMP(time), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                  RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    REQUIRE(rd_kafka_flush(producer.get(), 10'000) == RD_KAFKA_RESP_ERR_NO_ERROR);
}

}  // namespace

TEST_CASE("replay: times resolve through the broker's time index, per partition") {
    if (skipped_on_mock_cluster("a time index (the mock cannot look offsets up by time)")) return;
    TestCluster cluster;
    const int64_t t0 = epoch_ms_now() - 3'600'000;
    std::vector<int64_t> steady, offset_by_half, out_of_order;
    for (int i = 0; i < 10; ++i) {
        steady.push_back(t0 + i * 1000);
        offset_by_half.push_back(t0 + 500 + i * 1000);
    }
    // Not in time order, as several producers' clocks can leave a log: the broker answers the first
    // offset at or after a time (1 here), where a search that assumes order would land on 5.
    for (int64_t seconds : {0, 5, 1, 2, 3, 4}) out_of_order.push_back(t0 + seconds * 1000);
    produce_at_times(cluster, 0, steady);
    produce_at_times(cluster, 1, offset_by_half);
    produce_at_times(cluster, 2, out_of_order);

    const auto checkpoint = cluster.dir() / "cp.json";
    std::string summary;
    REQUIRE(run_to_end(cluster,
                       {"--from", "time:" + std::to_string(t0 + 3200), "--to", "time:" + std::to_string(t0 + 7700),
                        "--checkpoint", checkpoint.string()},
                       "by-time", &summary) == 0);
    std::map<int32_t, ResolvedRange> ranges = checkpoint_ranges(checkpoint);
    CHECK(ranges[0].start == 4);  // t0 + 4000
    CHECK(ranges[0].end == 8);    // t0 + 8000
    CHECK(ranges[1].start == 3);  // t0 + 3500
    CHECK(ranges[1].end == 8);    // t0 + 8500
    CHECK(ranges[2].start == 1);  // t0 + 5000, the first at or after t0 + 3200
    CHECK(ranges[2].end == 6);    // nothing at or after t0 + 7700: the end
    CHECK(ranges[3].start == ranges[3].end);
    CHECK(summary_consumed(summary) == 4 + 5 + 5);
}

TEST_CASE("replay: a range whose start retention deleted starts at the log start offset, and says so") {
    if (skipped_on_mock_cluster("records deleted below a log start offset")) return;
    TestCluster cluster;
    const int64_t t0 = epoch_ms_now() - 3'600'000;
    std::vector<int64_t> times;
    for (int i = 0; i < 10; ++i) times.push_back(t0 + i * 1000);
    produce_at_times(cluster, 0, times);
    delete_records(cluster.brokers(), cluster.input_topic(), 0, 6);  // as retention would

    for (const std::string& from : {std::string("offset:2"), "time:" + std::to_string(t0 + 2000)}) {
        CAPTURE(from);
        const auto checkpoint = cluster.dir() / ("cp-" + from.substr(0, from.find(':')) + ".json");
        ChildProcess replay(
            replay_args(cluster, {"--from", from, "--partitions", "0", "--checkpoint", checkpoint.string()}),
            cluster.dir() / ("from-" + from.substr(0, from.find(':'))));
        REQUIRE(replay.wait_exit(60s) == 0);
        INFO("replay stderr:\n" << replay.stderr_tail());
        CHECK(checkpoint_ranges(checkpoint)[0].start == 6);
        CHECK(summary_consumed(replay.stdout_text()) == 4);
        const std::string err = replay.stderr_text();
        CHECK(err.find("the replay range starts at the log start offset: records before it were deleted") !=
              std::string::npos);
        CHECK(err.find(R"("partition":"0","log_start_offset":"6")") != std::string::npos);
    }
}
