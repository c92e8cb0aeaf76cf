// `process` over several threads: the same files in the same order as one thread, failures ended
// with their cause, and one team store shared by the threads' caches.
#include <warden/files.hpp>
#include <warden/loadgen.hpp>
#include <warden/pipeline.hpp>
#include <warden/teams.hpp>

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

using namespace warden;

namespace {

constexpr int64_t fixed_now = 1'795'168'800'000;

// Generated capture traffic as kcat -J lines, with blank lines and bare values between them.
std::string generated_input(size_t count) {
    loadgen::EventGenerator generator(99, 20);
    std::string input;
    for (size_t i = 0; i < count; ++i) {
        const loadgen::GeneratedMessage g = generator.next(i);
        if (i % 97 == 0) {
            input += g.value + "\n\n";  // a bare value, then a blank line
            continue;
        }
        OutputRecord record;
        record.key = g.key;
        record.value = g.value;
        for (const auto& [name, value] : g.headers) record.headers.add(name, value);
        input += envelope_json("events_plugin_ingestion", record) + "\n";
    }
    return input;
}

std::map<std::string, std::string> files_in(const std::filesystem::path& dir) {
    std::map<std::string, std::string> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        std::ifstream in(entry.path(), std::ios::binary);
        std::ostringstream text;
        text << in.rdbuf();
        files[entry.path().filename().string()] = text.str();
    }
    return files;
}

// Processors with caches of their own over one shared store, as `process --threads` makes them.
struct Lanes {
    Lanes(TeamStore& store, size_t count) : shared(store, count) {
        for (size_t i = 0; i < count; ++i) {
            caches.push_back(std::make_unique<TeamCache>(shared.view(i)));
            processors.push_back(
                std::make_unique<BatchProcessor>(*caches.back(), TopicNames{}, CoreLimits{}, [] { return fixed_now; }));
            pointers.push_back(processors.back().get());
        }
    }
    SharedTeamStore shared;
    std::vector<std::unique_ptr<TeamCache>> caches;
    std::vector<std::unique_ptr<BatchProcessor>> processors;
    std::vector<BatchProcessor*> pointers;
};

struct TempDir {
    std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("warden_threads_" + std::to_string(::getpid()));
    ~TempDir() { std::filesystem::remove_all(path); }
};

}  // namespace

TEST_CASE("process over several threads writes the same files, in the same order, as over one") {
    auto store = FileTeamStore::from_json(loadgen::teams_json(20), "threads");
    const std::string input = generated_input(3000);
    TempDir dir;
    std::map<std::string, std::string> one_thread;
    std::string one_summary;
    for (size_t threads : {1, 2, 3, 8}) {
        CAPTURE(threads);
        Lanes lanes(*store, threads);
        ProcessFilesOptions options{dir.path / std::to_string(threads)};
        options.batch_size = 64;  // many batches, so every thread gets some
        std::istringstream in(input);
        const OutcomeCounters counters = process_stream(in, lanes.pointers, options);
        CHECK(counters.consumed == 3000);
        const std::map<std::string, std::string> files = files_in(options.output_dir);
        const std::string summary = counters.summary_json(TopicNames{});
        if (threads == 1) {
            one_thread = files;
            one_summary = summary;
            REQUIRE(files.size() == 4);
            CHECK(files.at("events_dlq.jsonl").size() > 0);
            continue;
        }
        CHECK(summary == one_summary);
        REQUIRE(files.size() == one_thread.size());
        for (const auto& [name, text] : one_thread) {
            CAPTURE(name);
            CHECK(files.at(name) == text);
        }
    }
}

TEST_CASE("process over several threads ends with the cause of a permanent store failure") {
    struct BrokenStore : TeamStore {
        FetchResult fetch(const TeamQuery&) override {
            return {{}, "the team table lacks a column warden reads", StoreFailure::permanent};
        }
    } store;
    Lanes lanes(store, 3);
    TempDir dir;
    ProcessFilesOptions options{dir.path};
    options.batch_size = 16;
    std::istringstream in(generated_input(500));
    CHECK_THROWS_WITH_AS(process_stream(in, lanes.pointers, options), doctest::Contains("lacks a column"),
                         std::runtime_error);
}

TEST_CASE("a shared team store answers every view and tells each view every change") {
    struct NotifyingStore : TeamStore {
        std::unique_ptr<FileTeamStore> file = FileTeamStore::from_json(loadgen::teams_json(3), "notifying");
        Invalidations news;
        int fetches = 0;
        FetchResult fetch(const TeamQuery& query) override {
            ++fetches;
            return file->fetch(query);
        }
        Invalidations poll_invalidations() override { return std::exchange(news, {}); }
    } store;
    SharedTeamStore shared(store, 3);
    const std::string token = loadgen::make_token("phc_", 2);
    CHECK(shared.view(0).fetch_by_tokens({&token, 1}).teams.size() == 1);
    CHECK(shared.view(2).fetch_by_tokens({&token, 1}).teams.size() == 1);
    CHECK(store.fetches == 2);

    store.news.team_ids = {2};
    CHECK(shared.view(1).poll_invalidations().team_ids == std::vector<int64_t>{2});
    CHECK(shared.view(0).poll_invalidations().team_ids ==
          std::vector<int64_t>{2});                               // told too, though view 1 polled it
    CHECK(shared.view(0).poll_invalidations().team_ids.empty());  // taken once
    store.news.everything = true;
    CHECK(shared.view(1).poll_invalidations().everything);
    CHECK_FALSE(shared.view(1).poll_invalidations().everything);  // taken once
    const TeamStore::Invalidations third = shared.view(2).poll_invalidations();
    CHECK(third.everything);  // forgetting everything covers team 2 too
    CHECK(third.team_ids.empty());
}

TEST_CASE(
    "a view that never polls keeps a bounded backlog of changes: past the bound it is told to forget everything") {
    // A member of `run --threads` without partitions polls its store rarely or never, while the
    // others take every notice; its backlog must not grow with them.
    struct NotifyingStore : TeamStore {
        Invalidations news;
        FetchResult fetch(const TeamQuery&) override { return {}; }
        Invalidations poll_invalidations() override { return std::exchange(news, {}); }
    } store;
    SharedTeamStore shared(store, 2);
    for (int64_t id = 1; id <= static_cast<int64_t>(TeamCache::max_pending_reloads) + 5; ++id) {
        store.news.team_ids = {id};
        CHECK(shared.view(0).poll_invalidations().team_ids == std::vector<int64_t>{id});
    }
    const TeamStore::Invalidations idle = shared.view(1).poll_invalidations();
    CHECK(idle.everything);
    CHECK(idle.team_ids.empty());
    CHECK_FALSE(shared.view(1).poll_invalidations().everything);  // taken once
}
