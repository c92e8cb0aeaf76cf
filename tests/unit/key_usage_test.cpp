// The recorder of project keys' last use: keys noted by batches reach the writer once per interval,
// in one write per flush; a writer that hangs never holds up the batches; a full pending set drops
// and counts; a failed write keeps its keys for the next; and the pipeline notes the keys a batch
// presented (scoped or not), never a team's own secret.
#include "support.hpp"

#include <warden/key_usage.hpp>

#include <future>
#include <set>

using namespace warden;
using namespace std::chrono_literals;

namespace {

// Records every write; answers as told.
struct FakeWriter {
    std::vector<std::vector<TokenDigest>> writes;
    KeyUsageWrite answer{true, 0, {}};

    KeyUsageRecorder::Writer writer() {
        return [this](std::span<const TokenDigest> keys) {
            writes.emplace_back(keys.begin(), keys.end());
            KeyUsageWrite result = answer;
            if (result.ok) result.updated = keys.size();
            return result;
        };
    }
};

std::vector<TokenDigest> digests(std::initializer_list<std::string_view> keys) {
    std::vector<TokenDigest> out;
    for (std::string_view key : keys) out.push_back(TokenDigest::of(key));
    return out;
}

std::set<std::string> hexes(const std::vector<TokenDigest>& keys) {
    std::set<std::string> out;
    for (const TokenDigest& key : keys) out.insert(key.hex());
    return out;
}

KeyUsageOptions hour_interval() {
    KeyUsageOptions options;
    options.interval = 3600s;
    options.flush_period = 3600s;  // flushed by the test
    return options;
}

}  // namespace

TEST_CASE("key usage: keys noted many times go out once, in one write, and not again within the interval") {
    FakeWriter fake;
    KeyUsageRecorder recorder(hour_interval(), fake.writer());
    for (int batch = 0; batch < 50; ++batch) recorder.note(digests({"phs_key_a", "phs_key_b"}));
    recorder.note(digests({"phs_key_c", "phs_key_a"}));
    recorder.flush();
    REQUIRE(fake.writes.size() == 1);
    CHECK(hexes(fake.writes[0]) == hexes(digests({"phs_key_a", "phs_key_b", "phs_key_c"})));
    CHECK(fake.writes[0].size() == 3);

    recorder.note(digests({"phs_key_a", "phs_key_b"}));  // written within the interval: not again
    recorder.flush();
    CHECK(fake.writes.size() == 1);
    recorder.note(digests({"phs_key_d", "phs_key_a"}));
    recorder.flush();
    REQUIRE(fake.writes.size() == 2);
    CHECK(hexes(fake.writes[1]) == hexes(digests({"phs_key_d"})));

    const KeyUsageStats stats = recorder.stats();
    CHECK(stats.noted == 4);
    CHECK(stats.sent == 4);
    CHECK(stats.updated == 4);
    CHECK(stats.dropped == 0);
    CHECK(stats.pending == 0);
}

TEST_CASE("key usage: once the interval has passed a key is written again") {
    FakeWriter fake;
    KeyUsageOptions options = hour_interval();
    options.interval = 1ms;
    KeyUsageRecorder recorder(options, fake.writer());
    recorder.note(digests({"phs_key_a"}));
    recorder.flush();
    std::this_thread::sleep_for(5ms);
    recorder.note(digests({"phs_key_a"}));
    recorder.flush();
    CHECK(fake.writes.size() == 2);
}

TEST_CASE("key usage: a full pending set drops and counts what it cannot keep") {
    FakeWriter fake;
    KeyUsageOptions options = hour_interval();
    options.max_pending = 3;
    KeyUsageRecorder recorder(options, fake.writer());
    recorder.note(digests({"phs_1", "phs_2", "phs_3", "phs_4", "phs_5"}));
    recorder.note(digests({"phs_1"}));  // already pending: neither kept twice nor dropped
    KeyUsageStats stats = recorder.stats();
    CHECK(stats.pending == 3);
    CHECK(stats.dropped == 2);
    recorder.flush();
    REQUIRE(fake.writes.size() == 1);
    CHECK(fake.writes[0].size() == 3);
    recorder.note(digests({"phs_4", "phs_5"}));  // room again
    CHECK(recorder.stats().pending == 2);
}

TEST_CASE("key usage: a failed write keeps its keys for the next flush; a throwing writer is a failure") {
    FakeWriter fake;
    fake.answer = {false, 0, "PostgreSQL is unreachable (connection refused)"};
    KeyUsageRecorder recorder(hour_interval(), fake.writer());
    recorder.note(digests({"phs_key_a", "phs_key_b"}));
    recorder.flush();
    KeyUsageStats stats = recorder.stats();
    CHECK(stats.failures == 1);
    CHECK(stats.pending == 2);
    CHECK(stats.sent == 0);
    CHECK(stats.noted == 2);  // not counted again when kept
    CHECK(stats.last_error == "PostgreSQL is unreachable (connection refused)");
    recorder.note(digests({"phs_key_a"}));  // noted while failing: still pending once
    fake.answer = {true, 0, {}};
    recorder.flush();
    REQUIRE(fake.writes.size() == 2);
    CHECK(hexes(fake.writes[1]) == hexes(digests({"phs_key_a", "phs_key_b"})));
    stats = recorder.stats();
    CHECK(stats.last_error.empty());
    CHECK(stats.sent == 2);

    KeyUsageRecorder throwing(
        hour_interval(), [](std::span<const TokenDigest>) -> KeyUsageWrite { throw std::runtime_error("no memory"); });
    throwing.note(digests({"phs_key_a"}));
    throwing.flush();
    CHECK(throwing.stats().failures == 1);
    CHECK(throwing.stats().pending == 1);
}

TEST_CASE("key usage: a writer that hangs holds up no batch") {
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    std::promise<void> entered;
    KeyUsageRecorder recorder(hour_interval(), [&](std::span<const TokenDigest> keys) {
        entered.set_value();
        released.wait();  // the database does not answer
        return KeyUsageWrite{true, keys.size(), {}};
    });
    recorder.note(digests({"phs_key_a"}));
    std::thread flusher([&] { recorder.flush(); });
    entered.get_future().wait();
    // While the write hangs, batches keep noting keys.
    auto noting = std::async(std::launch::async, [&] {
        for (int i = 0; i < 10'000; ++i) recorder.note(digests({"phs_key_b"}));
        return recorder.stats();
    });
    const bool returned = noting.wait_for(10s) == std::future_status::ready;
    release.set_value();
    flusher.join();
    REQUIRE(returned);
    CHECK(noting.get().pending == 1);
}

TEST_CASE("key usage: the thread flushes on its own, and the last keys are written at the end") {
    std::mutex mutex;
    std::vector<std::string> written;
    const auto writer = [&](std::span<const TokenDigest> keys) {
        const std::lock_guard lock(mutex);
        for (const TokenDigest& key : keys) written.push_back(key.hex());
        return KeyUsageWrite{true, keys.size(), {}};
    };
    KeyUsageOptions often = hour_interval();
    often.flush_period = 10ms;
    KeyUsageRecorder recorder(often, writer);
    recorder.start();
    recorder.note(digests({"phs_key_a"}));
    for (int i = 0; i < 500 && recorder.stats().sent == 0; ++i) std::this_thread::sleep_for(10ms);
    CHECK(recorder.stats().sent == 1);

    {
        KeyUsageRecorder stopping(hour_interval(), writer);  // no flush before the end
        stopping.start();
        stopping.note(digests({"phs_key_b"}));
    }
    const std::lock_guard lock(mutex);
    CHECK(written == std::vector<std::string>{TokenDigest::of("phs_key_a").hex(), TokenDigest::of("phs_key_b").hex()});
}

TEST_CASE("key usage: the pipeline notes each key a batch presented, scoped or not, and no team secret") {
    const std::string scoped_key = "phs_ProjectKeyScoped0000000000";
    const std::string unscoped_key = "phs_ProjectKeyUnscoped00000000";
    const std::string teams = R"([{"id":70,"project_id":700,"api_token":"phc_keyed_team",
        "secret_api_token":"phs_team_secret_70","project_secret_api_keys":[
        {"secure_value":"sha256$)" +
                              TokenDigest::of(scoped_key).hex() +
                              R"(","scopes":["event:write"]},
        {"secure_value":"sha256$)" +
                              TokenDigest::of(unscoped_key).hex() + R"(","scopes":[]}]}])";
    test::Harness h({}, teams);
    FakeWriter fake;
    KeyUsageRecorder recorder(hour_interval(), fake.writer());
    h.processor.set_key_usage(&recorder);
    const std::string event = R"({"event":"e","distinct_id":"u","properties":{}})";
    h.run({test::event_with(scoped_key, event), test::event_with(unscoped_key, event),
           test::event_with(scoped_key, event), test::event_with("phs_team_secret_70", event),
           test::event_with("phc_keyed_team", event), test::event_with("phs_ProjectKeyNeverIssued0000", event)});
    recorder.flush();
    REQUIRE(fake.writes.size() == 1);
    CHECK(fake.writes[0].size() == 2);
    CHECK(hexes(fake.writes[0]) == hexes(digests({scoped_key, unscoped_key})));
}
