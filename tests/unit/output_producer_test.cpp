// The Kafka sink's own bookkeeping, against an in-process mock cluster: every output is
// acknowledged exactly once with the input it belongs to, whether it went through at once, after
// failed deliveries, or as the dead letter that replaced it.
#include "kafka/output_producer.hpp"

#include "../support/slowdown.hpp"

#include <warden/mock_cluster.hpp>

#include <doctest/doctest.h>
#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <utility>

using namespace warden;
using namespace warden::kafka;
using namespace std::chrono_literals;

namespace {

constexpr int16_t produce_api_key = 0;

OutputRecord record_of(size_t value_size) {
    OutputRecord r;
    r.key = "1:user";
    r.value = std::string(value_size, 'v');
    r.headers.add("team_id", "1");
    return r;
}

// A producer on a fresh mock cluster, counting the acknowledgements of each input offset.
struct ProducerOnMock {
    MockCluster cluster{1};
    std::map<int64_t, int> acks;  // input offset -> acknowledgements
    std::unique_ptr<OutputProducer> producer;

    explicit ProducerOnMock(KafkaProperties extra = {}, size_t max_message_bytes = 1'000'000) {
        cluster.create_topic("events_analytics", 1);
        cluster.create_topic("events_dlq", 1);
        OutputProducerOptions options;
        options.properties = {{"bootstrap.servers", cluster.bootstraps()}, {"linger.ms", "1"}};
        options.properties.insert(options.properties.end(), extra.begin(), extra.end());
        options.max_message_bytes = max_message_bytes;
        options.source_topic = "events_plugin_ingestion";
        producer = std::make_unique<OutputProducer>(std::move(options));
        producer->on_acknowledged([this](const SourceTag& tag) { ++acks[tag.offset]; });
    }

    void send(int64_t offset, size_t value_size = 100) {
        producer->send("events_analytics", record_of(value_size), SourceTag{0, offset, 1});
    }

    bool settle(std::chrono::seconds limit) {
        return producer->poll_until([this] { return producer->in_flight() == 0; },
                                    std::chrono::steady_clock::now() + limit);
    }
};

}  // namespace

TEST_CASE("output producer: records acknowledged once each, with the input they belong to") {
    ProducerOnMock mock;
    for (int64_t offset = 0; offset < 50; ++offset) mock.send(offset);
    CHECK(mock.producer->in_flight() == 50);
    REQUIRE(mock.settle(20s));
    CHECK(mock.acks.size() == 50);
    for (const auto& [offset, count] : mock.acks) CHECK_MESSAGE(count == 1, "offset " << offset);
    CHECK(mock.producer->delivered() == 50);
    CHECK(mock.producer->delivery_errors() == 0);
}

TEST_CASE("output producer: a failed delivery is produced again, its input held until it is acknowledged") {
    // Errors librdkafka gives up on at once reach warden's own retry: the output waits out a
    // backoff and is produced again, never dropped and never acknowledged twice.
    ProducerOnMock mock;
    constexpr auto refused = RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED;
    rd_kafka_mock_push_request_errors(mock.cluster.handle(), produce_api_key, 3, refused, refused, refused);
    for (int64_t offset = 0; offset < 10; ++offset) mock.send(offset);
    // The first deliveries fail: nothing is acknowledged, every output is still in flight.
    REQUIRE(mock.producer->poll_until([&] { return mock.producer->delivery_errors() > 0; },
                                      std::chrono::steady_clock::now() + 20s));
    CHECK(mock.producer->in_flight() == 10);
    REQUIRE(mock.settle(30s));
    CHECK(mock.acks.size() == 10);
    for (const auto& [offset, count] : mock.acks) CHECK_MESSAGE(count == 1, "offset " << offset);
    CHECK(mock.producer->delivery_errors() >= 1);
    CHECK(mock.producer->take_refused_outputs() == 0);
}

TEST_CASE("output producer: an output too large for the producer becomes a dead letter, acknowledged once") {
    // message.max.bytes below the record: librdkafka refuses it at once, and a cut dead letter
    // naming the input replaces it.
    ProducerOnMock mock({{"message.max.bytes", "4000"}}, 4000);
    mock.send(7, 100);
    mock.send(8, 20'000);
    mock.send(9, 100);
    REQUIRE(mock.settle(20s));
    CHECK(mock.acks == std::map<int64_t, int>{{7, 1}, {8, 1}, {9, 1}});
    CHECK(mock.producer->take_refused_outputs() == 1);
    CHECK(mock.producer->take_refused_outputs() == 0);  // taken
    CHECK(mock.producer->dead_letters_cut() == 1);
    CHECK(mock.producer->max_record_bytes() == 4000);
}

TEST_CASE("output producer: a transactional producer fenced with outputs in flight is destroyed cleanly") {
    // librdkafka frees a transactional producer's error text when its main thread ends; a broker
    // thread handling a fenced produce response after that frees it a second time. With thousands
    // of outputs queued, tearing the client down takes long enough for delayed fenced responses to
    // land in that window: without the purge before destruction, half of 10-round runs aborted
    // (double free, or a corrupted heap at thread exit).
    // Fewer under the sanitizers' slowdown (ThreadSanitizer is not what catches this).
    const int rounds = std::max(5, static_cast<int>(25 / test::slowdown()));
    constexpr int partitions = 8;
    constexpr auto fenced = RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH;
    for (int round = 0; round < rounds; ++round) {
        MockCluster cluster{1};
        cluster.create_topic("events_analytics", partitions);
        cluster.create_topic("events_dlq", 1);
        OutputProducerOptions options;
        options.properties = {{"bootstrap.servers", cluster.bootstraps()}, {"linger.ms", "0"}};
        options.source_topic = "events_plugin_ingestion";
        options.transactional_id = "fenced-" + std::to_string(round);
        auto producer = std::make_unique<OutputProducer>(std::move(options));
        REQUIRE(rd_kafka_init_transactions(producer->client(), 10'000) == nullptr);
        REQUIRE(rd_kafka_begin_transaction(producer->client()) == nullptr);
        // Every produce response says the producer was fenced, after round trips of 0 to 4 ms.
        for (int i = 0; i < 64; ++i) {
            rd_kafka_mock_broker_push_request_error_rtts(cluster.handle(), 1, produce_api_key, 1, fenced, i % 5);
        }
        std::string error;
        try {
            for (int64_t offset = 0; offset < 5000; ++offset) {
                OutputRecord r = record_of(100);
                const std::string key = std::to_string(offset);  // spread over the partitions
                r.key = key;
                producer->send("events_analytics", r, SourceTag{static_cast<int32_t>(offset % partitions), offset, 1});
                if (offset % 500 == 0) producer->poll(0ms);
            }
            producer->poll_until([] { return false; }, std::chrono::steady_clock::now() + 30s);  // ends by throwing
        } catch (const std::runtime_error& e) {
            error = e.what();
        }
        CHECK_MESSAGE(error.find("fenced this producer") != std::string::npos, "round " << round << ": " << error);
        producer.reset();  // with outputs still queued and fenced responses on their way
    }
}
