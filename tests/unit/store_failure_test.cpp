// A team store failure is a value carried through the cache and the batch processor, transient or
// permanent; the commands that end wait out the first (up to a bound) and stop at the second.
#include "support.hpp"

#include <warden/log.hpp>

#include <filesystem>
#include <sstream>

using namespace warden;
using namespace std::chrono_literals;

namespace {

// A store that fails as told, then answers from the `answer_from`-th call on (-1: never).
struct FailingStore : TeamStore {
    std::string error = "connection refused";
    StoreFailure failure = StoreFailure::transient;
    int answer_from = -1;
    int calls = 0, checks = 0;
    std::vector<Team> teams;

    FetchResult answer() {
        if (answer_from >= 0 && calls++ >= answer_from) return {teams, std::nullopt};
        if (answer_from < 0) ++calls;
        return {{}, error, failure};
    }
    FetchResult fetch(const TeamQuery&) override { return answer(); }
    FetchResult check() override {
        ++checks;
        return answer();
    }
};

std::vector<MessageView> one_message(const std::string& value, HeaderView& token) {
    MessageView m;
    m.value = value;
    m.headers = std::span<const HeaderView>(&token, 1);
    return {m};
}

// Records the log lines of a test.
std::vector<std::string>& captured() {
    static std::vector<std::string> lines;
    return lines;
}

struct CapturedLog {
    CapturedLog() {
        captured().clear();
        log::set_repeat_interval(0ms);  // no line held back because another test wrote it just before
        log::set_sink([](const std::string& line) { captured().push_back(line); });
    }
    ~CapturedLog() {
        log::set_sink(nullptr);
        log::set_repeat_interval(1000ms);
    }
};

}  // namespace

TEST_CASE("store failure: the cache keeps the kind, and a success clears the error") {
    FailingStore store;
    store.failure = StoreFailure::permanent;
    store.error = "the team table does not exist";
    TeamCache cache(store);
    std::vector<std::shared_ptr<const Team>> out;
    CHECK_FALSE(cache.resolve_batch(std::vector<std::string>{"phc_a"}, out));
    CHECK(cache.last_error() == "the team table does not exist");
    CHECK(cache.last_failure() == StoreFailure::permanent);
    CHECK(cache.stats().store_errors == 1);

    store.failure = StoreFailure::transient;
    store.error = "connection refused";
    CHECK_FALSE(cache.check_store());
    CHECK(cache.last_failure() == StoreFailure::transient);
    CHECK(store.checks == 1);

    store.answer_from = 0;
    store.calls = 0;
    CHECK(cache.check_store());
    CHECK_FALSE(cache.last_error());
}

TEST_CASE("store failure: the batch processor tells unavailable from failed, and decides nothing") {
    FailingStore store;
    TeamCache cache(store);
    BatchProcessor processor(cache);
    const std::string value = test::capture_value("phc_public_acme", "{}");
    HeaderView token{"token", std::string_view("phc_public_acme")};
    const auto batch = one_message(value, token);
    BatchResult result;
    CHECK(processor.process(batch, result) == BatchProcessor::Status::store_unavailable);
    CHECK(result.outcomes.empty());
    store.failure = StoreFailure::permanent;
    CHECK(processor.process(batch, result) == BatchProcessor::Status::store_failed);
    CHECK(result.outcomes.empty());
    CHECK(processor.check_store() == BatchProcessor::Status::store_failed);
    store.failure = StoreFailure::transient;
    CHECK(processor.check_store() == BatchProcessor::Status::store_unavailable);
}

TEST_CASE("store failure: a file store is always ready") {
    auto store = FileTeamStore::from_json(test::teams_json, "test");
    TeamCache cache(*store);
    CHECK(cache.check_store());
}

TEST_CASE("store waiter: a permanent failure ends the wait at once, with the cause") {
    CapturedLog log;
    FailingStore store;
    store.failure = StoreFailure::permanent;
    store.error = "PostgreSQL refused the login";
    TeamCache cache(store);
    int sleeps = 0;
    StoreWaiter waiter(cache, RetryPolicy::Options::giving_up_after(60s), [&](std::chrono::milliseconds) {
        ++sleeps;
        return true;
    });
    try {
        waiter.until_store_answers();
        FAIL("no exception");
    } catch (const std::runtime_error& e) {
        CHECK(std::string(e.what()).find("PostgreSQL refused the login") != std::string::npos);
        CHECK(std::string(e.what()).find("waiting will not change that") != std::string::npos);
    }
    CHECK(sleeps == 0);
    CHECK(store.checks == 1);
}

TEST_CASE("store waiter: an unavailable store is waited for up to the bound, then the wait gives up") {
    CapturedLog log;
    FailingStore store;
    TeamCache cache(store);
    StoreWaiter waiter(cache, RetryPolicy::Options::giving_up_after(300ms));
    const auto started = std::chrono::steady_clock::now();
    CHECK_THROWS_WITH_AS(waiter.until_store_answers(), doctest::Contains("did not answer"), std::runtime_error);
    const auto took = std::chrono::steady_clock::now() - started;
    CHECK(took >= 300ms);
    CHECK(took < 5s);
    CHECK(store.checks >= 3);  // 100, 200 ms, then the deadline
    // One line for the outage, not one per retry; it names the cause.
    REQUIRE(captured().size() == 1);
    CHECK(captured()[0].find("connection refused") != std::string::npos);
}

TEST_CASE("store waiter: a store that comes back ends the wait; a stopping command abandons it") {
    CapturedLog log;
    FailingStore store;
    store.answer_from = 2;
    TeamCache cache(store);
    std::vector<std::chrono::milliseconds> sleeps;
    StoreWaiter waiter(cache, RetryPolicy::Options::giving_up_after(60s), [&](std::chrono::milliseconds d) {
        sleeps.push_back(d);
        return true;
    });
    CHECK(waiter.until_store_answers());
    CHECK(sleeps == std::vector<std::chrono::milliseconds>{100ms, 200ms});
    CHECK(captured().back().find("available again") != std::string::npos);

    FailingStore down;
    TeamCache down_cache(down);
    StoreWaiter stopping(down_cache, RetryPolicy::Options::giving_up_after(60s),
                         [](std::chrono::milliseconds) { return false; });
    CHECK_FALSE(stopping.until_store_answers());
}

TEST_CASE("store failure: process ends with the cause on a permanent failure, and after the bounded wait") {
    CapturedLog log;
    const auto dir = std::filesystem::temp_directory_path() / "warden_store_failure_test";
    FailingStore store;
    store.failure = StoreFailure::permanent;
    store.error = "the team table lacks a column warden reads";
    TeamCache cache(store);
    BatchProcessor processor(cache);
    ProcessFilesOptions options{dir};
    options.store_wait_timeout = 200ms;
    const std::string line = test::capture_value("phc_public_acme", "{}") + "\n";
    {
        std::istringstream input(line);
        CHECK_THROWS_WITH_AS(process_stream(input, processor, options), doctest::Contains("lacks a column"),
                             std::runtime_error);
        CHECK(store.calls == 1);
    }
    store.failure = StoreFailure::transient;
    store.error = "connection refused";
    {
        std::istringstream input(line);
        const auto started = std::chrono::steady_clock::now();
        CHECK_THROWS_WITH_AS(process_stream(input, processor, options), doctest::Contains("connection refused"),
                             std::runtime_error);
        CHECK(std::chrono::steady_clock::now() - started >= 200ms);
    }
    std::filesystem::remove_all(dir);
}
