// Teardown helpers over librdkafka handles: a step that may never end is bounded, not waited for.
#include <warden/kafka_handles.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>

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
