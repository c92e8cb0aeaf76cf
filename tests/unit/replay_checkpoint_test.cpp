// The replay checkpoint: a rerun must ask for the range it was written for, and writing it never
// goes through a file or link that was already there.
#include "cli_test_support.hpp"
#include "kafka/replay_checkpoint.hpp"
#include "warden_cli.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

using warden::test::contains;
using warden::test::FakeEnvironment;
using warden::test::ScratchFile;

struct Outcome {
    int status = -1;
    std::string err;
};

// `warden replay` with `extra`, against brokers that are not there and a teams file that does not
// exist: a run that passes its usage checks fails with status 1 before contacting anything.
Outcome replay(const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"replay", "--brokers", "127.0.0.1:1", "--teams", "/nonexistent/warden-teams.json"};
    args.insert(args.end(), extra.begin(), extra.end());
    warden::cli::WardenCli cli;
    std::ostringstream out, err;
    Outcome outcome;
    const std::optional<int> parsed = cli.parse(args, FakeEnvironment{}, out, err);
    outcome.status = parsed ? *parsed : cli.run(err);
    outcome.err = err.str();
    return outcome;
}

// A checkpoint of events_plugin_ingestion written for `range` (JSON members), partition 1 half done.
std::string checkpoint_text(const std::string& range) {
    return R"({"version":2,"topic":"events_plugin_ingestion",)" + range +
           R"("partitions":[{"partition":1,"start":0,"end":10,"acked":5}]})";
}

const std::string earliest_to_latest_of_1 = R"("range":{"from":"earliest","to":"latest","partitions":"1"},)";

}  // namespace

TEST_CASE("replay checkpoint: a rerun that asks for another range is refused, naming the setting") {
    ScratchFile checkpoint(checkpoint_text(earliest_to_latest_of_1), ".json");
    const std::string path = checkpoint.path.string();
    const std::vector<std::pair<std::vector<std::string>, std::string>> others = {
        {{"--partitions", "0"}, "--partitions 1 there, 0 here"},
        {{"--partitions", "1,2"}, "--partitions 1 there, 1,2 here"},
        {{"--partitions", "1", "--from", "3"}, "--from earliest there, offset:3 here"},
        {{"--partitions", "1", "--to", "2024-06-10T06:13:20Z"}, "--to latest there, time:1718000000000 here"},
        {{}, "--partitions 1 there, all here"},
    };
    for (const auto& [flags, difference] : others) {
        CAPTURE(flags);
        std::vector<std::string> args = {"--checkpoint", path};
        args.insert(args.end(), flags.begin(), flags.end());
        const Outcome outcome = replay(args);
        CHECK(outcome.status == 2);
        CHECK(contains(outcome.err, difference));
        CHECK(contains(outcome.err, "delete the checkpoint to start the replay afresh"));
    }
    // The same request, in another spelling: resumed (here it goes on to fail on the teams file).
    for (const std::vector<std::string>& same :
         {std::vector<std::string>{"--partitions", "1"},
          std::vector<std::string>{"--partitions", "1", "--from", "earliest", "--to", "latest"}}) {
        std::vector<std::string> args = {"--checkpoint", path};
        args.insert(args.end(), same.begin(), same.end());
        const Outcome outcome = replay(args);
        CHECK(outcome.status == 1);
        CHECK(contains(outcome.err, "warden-teams.json"));
    }
}

TEST_CASE("replay checkpoint: another topic, or an older checkpoint that recorded no range, is refused") {
    ScratchFile other_topic(R"({"version":2,"topic":"other",)" + earliest_to_latest_of_1 + R"("partitions":[]})",
                            ".json");
    Outcome outcome = replay({"--checkpoint", other_topic.path.string(), "--partitions", "1"});
    CHECK(outcome.status == 2);
    CHECK(contains(outcome.err, "belongs to topic other, not events_plugin_ingestion (--topic)"));

    ScratchFile older(checkpoint_text(""), ".json");
    outcome = replay({"--checkpoint", older.path.string(), "--partitions", "1"});
    CHECK(outcome.status == 2);
    CHECK(contains(outcome.err, "older warden"));
    CHECK(contains(outcome.err, "delete the checkpoint to start the replay afresh"));
}

TEST_CASE("replay checkpoint: written through a new file of its own, never through a link left in its place") {
    const std::filesystem::path dir =
        std::filesystem::temp_directory_path() / ("warden_cp_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const std::filesystem::path path = dir / "cp.json";
    const std::filesystem::path victim = dir / "victim";
    std::ofstream(victim) << "untouched";
    std::filesystem::create_symlink(victim, dir / "cp.json.tmp");

    warden::kafka::ReplayCheckpoint checkpoint;
    checkpoint.topic = "events_plugin_ingestion";
    warden::PartitionProgress progress;
    progress.partition = 3;
    progress.end = 10;
    progress.acked = 4;
    checkpoint.partitions.push_back(progress);
    warden::kafka::write_checkpoint(path.string(), checkpoint);
    warden::kafka::write_checkpoint(path.string(), checkpoint);  // and over itself

    std::ifstream in(victim);
    std::string victim_text;
    std::getline(in, victim_text);
    CHECK(victim_text == "untouched");
    const auto read = warden::kafka::read_checkpoint(path.string());
    REQUIRE(read.has_value());
    REQUIRE(read->partitions.size() == 1);
    CHECK(read->partitions[0].acked == 4);
    size_t entries = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        (void)entry;
        ++entries;
    }
    CHECK(entries == 3);  // the checkpoint, the link and its target: no temporary file left
    std::filesystem::remove_all(dir);
}

TEST_CASE("replay checkpoint: the range asked for is recorded in a spelling the flags take back") {
    warden::ReplayOptions options;
    options.from = warden::parse_offset_spec("2024-06-10T06:13:20Z");
    options.to = warden::parse_offset_spec("500");
    options.partitions = {7, 0, 3};
    const warden::kafka::ReplayRange range = warden::kafka::replay_range(options);
    CHECK(range.from == "time:1718000000000");
    CHECK(range.to == "offset:500");
    CHECK(range.partitions == "0,3,7");
    CHECK(warden::kafka::replay_range(warden::ReplayOptions{}).partitions == "all");

    ScratchFile file("", ".json");
    warden::kafka::ReplayCheckpoint checkpoint;
    checkpoint.topic = options.topic;
    checkpoint.range = range;
    warden::kafka::write_checkpoint(file.path.string(), checkpoint);
    const auto read = warden::kafka::read_checkpoint(file.path.string());
    REQUIRE(read.has_value());
    CHECK(read->range == range);
    CHECK(warden::kafka::checkpoint_mismatch(file.path.string(), *read, options).empty());
    CHECK(warden::parse_offset_spec(range.from).value == options.from.value);
    CHECK(warden::parse_offset_spec(range.to).kind == warden::OffsetSpec::Kind::offset);
}

TEST_CASE("replay checkpoint: an exactly-once replay's identity is recorded, and resumed by that guarantee only") {
    const std::string exactly_once_text =
        R"({"version":2,"topic":"events_plugin_ingestion",)" + earliest_to_latest_of_1 +
        R"("transactional_id":"warden-replay-a","partitions":[{"partition":1,"start":0,"end":10,"acked":5}]})";
    ScratchFile exactly_once(exactly_once_text, ".json");
    const std::string path = exactly_once.path.string();

    const auto read = warden::kafka::read_checkpoint(path);
    REQUIRE(read.has_value());
    CHECK(read->transactional_id == "warden-replay-a");
    warden::ReplayOptions options;
    options.partitions = {1};
    options.checkpoint_path = path;
    options.guarantee = warden::ProcessingGuarantee::exactly_once;
    CHECK(warden::replay_transactional_id(options) == "warden-replay-a");  // a rerun keeps its identity

    // Written back as it was read.
    ScratchFile copy("", ".json");
    warden::kafka::write_checkpoint(copy.path.string(), *read);
    CHECK(warden::kafka::read_checkpoint(copy.path.string())->transactional_id == "warden-replay-a");

    // Either guarantee refuses the other's checkpoint, saying which to give.
    Outcome outcome = replay({"--checkpoint", path, "--partitions", "1"});
    CHECK(outcome.status == 2);
    CHECK(contains(outcome.err, "written by an exactly-once replay"));
    CHECK(contains(outcome.err, "--processing-guarantee exactly-once"));
    ScratchFile at_least_once(checkpoint_text(earliest_to_latest_of_1), ".json");
    outcome = replay(
        {"--checkpoint", at_least_once.path.string(), "--partitions", "1", "--processing-guarantee", "exactly-once"});
    CHECK(outcome.status == 2);
    CHECK(contains(outcome.err, "written by an at-least-once replay"));
    CHECK(contains(outcome.err, "delete the checkpoint to start the replay afresh"));
    // The same guarantee resumes it (here it goes on to fail on the teams file).
    outcome = replay({"--checkpoint", path, "--partitions", "1", "--processing-guarantee", "exactly-once"});
    CHECK(outcome.status == 1);
    CHECK(contains(outcome.err, "warden-teams.json"));

    // A fresh exactly-once replay gets an identity of its own.
    options.checkpoint_path.clear();
    const std::string first = warden::replay_transactional_id(options);
    CHECK(first.rfind("warden-replay-events_plugin_ingestion-", 0) == 0);
    CHECK(first != warden::replay_transactional_id(options));

    ScratchFile nameless(R"({"version":2,"topic":"events_plugin_ingestion",)" + earliest_to_latest_of_1 +
                             R"("transactional_id":"","partitions":[]})",
                         ".json");
    outcome = replay({"--checkpoint", nameless.path.string(), "--partitions", "1"});
    CHECK(outcome.status == 1);
    CHECK(contains(outcome.err, "not usable (a transactional_id that is no name)"));
}

TEST_CASE("replay: exactly-once needs a checkpoint to resume from, and outputs to commit") {
    Outcome outcome = replay({"--processing-guarantee", "exactly-once"});
    CHECK(outcome.status == 2);
    CHECK(contains(outcome.err, "--processing-guarantee exactly-once needs --checkpoint"));
    ScratchFile checkpoint("", ".json");
    std::filesystem::remove(checkpoint.path);
    outcome = replay({"--processing-guarantee", "exactly-once", "--dry-run", "--checkpoint", checkpoint.path.string()});
    CHECK(outcome.status == 2);
    CHECK(contains(outcome.err, "--dry-run produces nothing"));
    outcome = replay({"--processing-guarantee", "at-most-once"});
    CHECK(outcome.status == 2);
    outcome = replay({"--transaction-interval-ms", "0"});
    CHECK(outcome.status == 2);
}
