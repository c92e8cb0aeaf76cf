// kafka::query_watermarks and kafka::offsets_for_times against errors the mock cluster injects:
// what a leadership change answers is asked again until it passes or the deadline does, and
// anything else ends the query at once.
#include "integration_checks.hpp"
#include "kafka/watermarks.hpp"
#include "kafka_test_support.hpp"

#include <doctest/doctest.h>

#include <numeric>

using namespace itest;

namespace {

constexpr int16_t list_offsets_api_key = 2;  // RD_KAFKAP_ListOffsets, not in the public headers

warden::kafka::ClientPtr offsets_client(const TestCluster& cluster) {
    return warden::kafka::make_client(
        RD_KAFKA_CONSUMER,
        warden::kafka::make_conf({{"bootstrap.servers", cluster.brokers()}, {"group.id", "watermarks"}}));
}

std::vector<int32_t> all_input_partitions() {
    std::vector<int32_t> partitions(input_partitions);
    std::iota(partitions.begin(), partitions.end(), 0);
    return partitions;
}

// ListOffsets answers still waiting in the mock's error stack.
size_t pending_errors(const TestCluster& cluster) {
    size_t pending = 0;
    REQUIRE(rd_kafka_mock_broker_error_stack_cnt(cluster.mock(), 1, list_offsets_api_key, &pending) ==
            RD_KAFKA_RESP_ERR_NO_ERROR);
    return pending;
}

}  // namespace

TEST_CASE("watermarks: the errors of a leadership change are asked again until they pass") {
    if (skipped_on_real_broker("injected ListOffsets errors")) return;
    TestCluster cluster;
    Corpus corpus = Corpus::generate(21, 200);
    InputProducer producer(cluster, corpus);
    producer.produce(0, corpus.messages.size());
    REQUIRE(producer.flush(30s));
    std::map<int32_t, int64_t> produced;
    for (const Placement& p : corpus.placements) produced[p.partition] = std::max(produced[p.partition], p.offset + 1);

    REQUIRE(rd_kafka_mock_broker_push_request_error_rtts(
                cluster.mock(), 1, list_offsets_api_key, 4, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, 0,
                RD_KAFKA_RESP_ERR_OFFSET_NOT_AVAILABLE, 0, RD_KAFKA_RESP_ERR_FENCED_LEADER_EPOCH, 0,
                RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, 0) == RD_KAFKA_RESP_ERR_NO_ERROR);
    const warden::kafka::ClientPtr client = offsets_client(cluster);
    std::map<int32_t, warden::kafka::Watermarks> watermarks;
    const rd_kafka_resp_err_t err =
        warden::kafka::query_watermarks(client.get(), cluster.input_topic(), all_input_partitions(), 10s, watermarks);
    REQUIRE_MESSAGE(err == RD_KAFKA_RESP_ERR_NO_ERROR, std::string(rd_kafka_err2str(err)));
    CHECK(pending_errors(cluster) == 0);
    for (int32_t p = 0; p < input_partitions; ++p) {
        CAPTURE(p);
        CHECK(watermarks[p].low == 0);
        CHECK(watermarks[p].high == produced[p]);
    }
}

TEST_CASE("watermarks: other errors end the query at once, with the error") {
    if (skipped_on_real_broker("injected ListOffsets errors")) return;
    TestCluster cluster;
    REQUIRE(rd_kafka_mock_broker_push_request_error_rtts(cluster.mock(), 1, list_offsets_api_key, 1,
                                                         RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
                                                         0) == RD_KAFKA_RESP_ERR_NO_ERROR);
    const warden::kafka::ClientPtr client = offsets_client(cluster);
    std::map<int32_t, warden::kafka::Watermarks> watermarks;
    const auto started = Clock::now();
    const rd_kafka_resp_err_t err =
        warden::kafka::query_watermarks(client.get(), cluster.input_topic(), all_input_partitions(), 10s, watermarks);
    CHECK(err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
    CHECK(Clock::now() - started < scaled(5s));
    CHECK(watermarks.empty());
}

TEST_CASE("watermarks: a leader that stays away ends the query at its deadline, with the cause") {
    if (skipped_on_real_broker("injected ListOffsets errors")) return;
    TestCluster cluster;
    const warden::kafka::ClientPtr client = offsets_client(cluster);
    std::map<int32_t, warden::kafka::Watermarks> watermarks;
    // Connected and told the leaders first, so the deadline is spent on the errors alone.
    REQUIRE(warden::kafka::query_watermarks(client.get(), cluster.input_topic(), {0}, 10s, watermarks) ==
            RD_KAFKA_RESP_ERR_NO_ERROR);
    watermarks.clear();
    for (int i = 0; i < 100; ++i) {
        REQUIRE(rd_kafka_mock_broker_push_request_error_rtts(cluster.mock(), 1, list_offsets_api_key, 1,
                                                             RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                                             0) == RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    const auto started = Clock::now();
    const rd_kafka_resp_err_t err =
        warden::kafka::query_watermarks(client.get(), cluster.input_topic(), all_input_partitions(), 2s, watermarks);
    const auto took = Clock::now() - started;
    CHECK(err == RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION);
    CHECK(took >= 1s);  // asked again, not given up on the first answer
    CHECK(took < scaled(6s));
    CHECK(pending_errors(cluster) < 100);
    CHECK(watermarks.empty());
}
