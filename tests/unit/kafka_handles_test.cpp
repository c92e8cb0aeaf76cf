// Helpers over librdkafka handles: a teardown step that may never end is bounded, not waited
// for; pre-fetch settings that never idle the consumer.
#include <warden/kafka_handles.hpp>

#include "kafka/prefetch.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <string>

using namespace std::chrono_literals;

TEST_CASE("finish_within: work that ends in time is waited for") {
    std::atomic<bool> ran{false};
    CHECK(warden::kafka::finish_within(10s, [&ran] { ran = true; }));
    CHECK(ran);
}

TEST_CASE("finish_within: work that does not end is left running after the limit") {
    // Shared with the thread, which outlives this test case until it is released below.
    auto release = std::make_shared<std::promise<void>>();
    auto released = std::make_shared<std::shared_future<void>>(release->get_future().share());
    const auto started = std::chrono::steady_clock::now();
    CHECK_FALSE(warden::kafka::finish_within(200ms, [released] { released->wait(); }));
    const auto waited = std::chrono::steady_clock::now() - started;
    CHECK(waited >= 200ms);
    CHECK(waited < 5s);
    release->set_value();
}

TEST_CASE("abandon_consumer: a consumer that never joined its group is destroyed at once") {
    warden::kafka::ConfPtr conf = warden::kafka::make_conf({{"group.id", "abandon-test"}});
    warden::kafka::ClientPtr consumer = warden::kafka::make_client(RD_KAFKA_CONSUMER, std::move(conf));
    CHECK(warden::kafka::abandon_consumer(std::move(consumer), 10s));
    CHECK(warden::kafka::abandon_consumer(nullptr, 10s));
}

namespace {

std::string value_of(const warden::KafkaProperties& properties, const std::string& name) {
    std::string value;
    for (const auto& [key, v] : properties) {
        if (key == name) value = v;
    }
    return value;
}

}  // namespace

TEST_CASE("prefetch: the message limit never stops fetching; bytes bound the queue") {
    const warden::KafkaProperties old_client = warden::kafka::prefetch_properties(0x020002ff);  // 2.0.2
    CHECK(value_of(old_client, "queued.min.messages") == "10000000");
    CHECK(value_of(old_client, "queued.max.messages.kbytes") == "65536");
    CHECK(value_of(old_client, "fetch.queue.backoff.ms").empty());  // unknown before 2.2: refused
    CHECK(value_of(warden::kafka::prefetch_properties(0x020200ff), "fetch.queue.backoff.ms") == "100");
    // The installed client accepts what it is given.
    CHECK_NOTHROW(warden::kafka::make_conf(warden::kafka::prefetch_properties()));
}

TEST_CASE("prefetch: members of one process share the queue budget only where the back-off is short") {
    // 2.0.2 backs a full queue off for a fixed second: a smaller share would idle each member.
    CHECK(value_of(warden::kafka::prefetch_properties(0x020002ff, 4), "queued.max.messages.kbytes") == "65536");
    // From 2.2 on the back-off is 100 ms: the members split the budget, down to 16 MiB each.
    CHECK(value_of(warden::kafka::prefetch_properties(0x020200ff, 1), "queued.max.messages.kbytes") == "65536");
    CHECK(value_of(warden::kafka::prefetch_properties(0x020200ff, 2), "queued.max.messages.kbytes") == "32768");
    CHECK(value_of(warden::kafka::prefetch_properties(0x020200ff, 3), "queued.max.messages.kbytes") == "21845");
    CHECK(value_of(warden::kafka::prefetch_properties(0x020200ff, 16), "queued.max.messages.kbytes") == "16384");
}
