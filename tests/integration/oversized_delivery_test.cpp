// Records refused as too large, by the client (message.max.bytes) or by the broker, reach an
// outcome: a counted `message_too_large` dead letter, cut until it is accepted. They are never
// produced again forever, which would hold their partition's offsets for good.
#include <doctest/doctest.h>

#include "integration_checks.hpp"
#include "kafka_test_support.hpp"

#include <warden/loadgen.hpp>

using namespace itest;

namespace {

constexpr int16_t produce_api_key = 0;  // RD_KAFKAP_Produce, not in the public headers

struct Input {
    std::string value;
    Placement placement;
};

// A pageview of team 1 whose properties carry `padding` bytes.
std::string pageview(int n, size_t padding) {
    char uuid[40];
    std::snprintf(uuid, sizeof uuid, "01900a3c-8f1e-7a2b-9c3d-%012d", n);
    return std::string(R"({"uuid":")") + uuid + R"(","distinct_id":"user-)" + std::to_string(n) +
           R"(","event":"$pageview","data":"{}","token":")" + warden::loadgen::make_token("phc_", 1) +
           R"(","properties":{"padding":")" + std::string(padding, 'p') + R"("}})";
}

constexpr size_t small_topic_limit = 64 * 1024;  // max.message.bytes of a topic on the real broker

// Produces the inputs (with a `token` header of team 1) to partition 0 of the input topic, in
// order, after `before` earlier ones, and records where they landed.
void produce_inputs(const TestCluster& cluster, std::vector<Input>& inputs, int64_t before = 0) {
    warden::kafka::ClientPtr producer = warden::kafka::make_client(
        RD_KAFKA_PRODUCER,
        warden::kafka::make_conf({{"bootstrap.servers", cluster.brokers()}, {"enable.idempotence", "true"}}));
    const char* topic = cluster.input_topic().c_str();
    const std::string token = warden::loadgen::make_token("phc_", 1);
    for (Input& input : inputs) {
        rd_kafka_headers_t* headers = rd_kafka_headers_new(1);
        rd_kafka_header_add(headers, "token", -1, token.data(), static_cast<ssize_t>(token.size()));
        REQUIRE(rd_kafka_producev(producer.get(), RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
                                  RD_KAFKA_V_VALUE(input.value.data(), input.value.size()), RD_KAFKA_V_HEADERS(headers),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                  RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    REQUIRE(rd_kafka_flush(producer.get(), 10'000) == RD_KAFKA_RESP_ERR_NO_ERROR);
    int64_t low = 0, high = 0;
    REQUIRE(rd_kafka_query_watermark_offsets(producer.get(), topic, 0, &low, &high, 5000) ==
            RD_KAFKA_RESP_ERR_NO_ERROR);
    REQUIRE(high == before + static_cast<int64_t>(inputs.size()));
    for (size_t i = 0; i < inputs.size(); ++i) inputs[i].placement = {0, before + static_cast<int64_t>(i)};
}

// One output record as read back: its topic, size as the broker counts the parts, and headers.
struct ReadRecord {
    std::string topic;
    size_t value_size = 0;
    size_t bytes = 0;  // key + value + header names and values
    std::map<std::string, std::string> headers;

    std::string header(const std::string& name) const {
        auto it = headers.find(name);
        return it == headers.end() ? "<absent>" : it->second;
    }
};

std::vector<ReadRecord> read_records(const TestCluster& cluster) {
    std::vector<ReadRecord> out;
    for (const std::string& record : read_outputs(cluster).records) {
        // canonical form: topic \n (len:bytes|null) \n per field: key, value, then header name/value pairs
        ReadRecord r;
        size_t at = record.find('\n');
        r.topic = record.substr(0, at);
        ++at;
        std::vector<std::optional<std::string>> fields;
        while (at < record.size()) {
            if (record.compare(at, 5, "null\n") == 0) {
                fields.emplace_back(std::nullopt);
                at += 5;
                continue;
            }
            const size_t colon = record.find(':', at);
            const size_t size = std::stoul(record.substr(at, colon - at));
            fields.emplace_back(record.substr(colon + 1, size));
            at = colon + 1 + size + 1;
        }
        REQUIRE(fields.size() >= 2);
        r.value_size = fields[1] ? fields[1]->size() : 0;
        for (const auto& f : fields) r.bytes += f ? f->size() : 0;
        for (size_t i = 2; i + 1 < fields.size(); i += 2)
            r.headers[fields[i].value_or("")] = fields[i + 1].value_or("");
        out.push_back(std::move(r));
    }
    return out;
}

std::vector<ReadRecord> in_topic(const std::vector<ReadRecord>& records, const std::string& topic) {
    std::vector<ReadRecord> out;
    for (const ReadRecord& r : records) {
        if (r.topic == topic) out.push_back(r);
    }
    return out;
}

}  // namespace

TEST_CASE("oversized: outputs and dead letters the client refuses as too large are cut into counted dead letters") {
    constexpr size_t producer_limit = 2000;
    TestCluster cluster;
    std::vector<Input> inputs = {{pageview(1, 5000), {}}, {pageview(2, 10), {}},        {pageview(3, 20000), {}},
                                 {pageview(4, 10), {}},   {std::string(5000, 'x'), {}}, {pageview(5, 3000), {}}};
    produce_inputs(cluster, inputs);

    auto worker = cluster.start_worker("oversized", "worker",
                                       {"--producer-property", "message.max.bytes=" + std::to_string(producer_limit)});
    INFO("worker stderr:\n" << worker->stderr_tail());
    GroupOffsets offsets(cluster, "oversized");
    REQUIRE(offsets.wait_all_committed(60s));  // nothing holds the partition
    CHECK(stop_worker(*worker) == 0);
    const std::string summary = worker->stdout_text();
    CHECK_MESSAGE(summary.find("\"message_too_large\":3") != std::string::npos, summary);

    const std::vector<ReadRecord> records = read_records(cluster);
    CHECK(in_topic(records, cluster.topics().analytics).size() == 2);  // the small pageviews
    const std::vector<ReadRecord> dead = in_topic(records, cluster.topics().dead_letter);
    REQUIRE(dead.size() == 4);
    size_t refused_outputs = 0;
    for (const ReadRecord& r : dead) {
        CAPTURE(r.header("dlq_reason"));
        CHECK(r.bytes <= producer_limit);
        CHECK(r.header("dlq_truncated") == "true");                   // every one of these had to be cut
        CHECK(std::stoul(r.header("dlq_original_bytes")) > r.bytes);  // the size before the cut
        CHECK(r.header("dlq_topic") == cluster.input_topic());
        CHECK(r.header("dlq_partition") == "0");
        if (r.header("dlq_reason") == "message_too_large") {
            ++refused_outputs;
            CHECK(r.header("dlq_step") == "produce");
            CHECK(r.header("dlq_output_topic") == cluster.topics().analytics);
            const int64_t offset = std::stoll(r.header("dlq_offset"));
            CHECK((offset == 0 || offset == 2 || offset == 5));
            CHECK(r.header("team_id") == "1");  // the output's own headers are kept
        } else {
            CHECK(r.header("dlq_reason") == "failed_parse_message");  // the core's dead letter, cut further
            CHECK(r.header("dlq_offset") == "4");
        }
    }
    CHECK(refused_outputs == 3);
}

TEST_CASE("oversized: outputs and dead letters the broker refuses as too large are cut until accepted") {
    if (skipped_on_real_broker("injected produce errors")) return;
    TestCluster cluster;
    std::vector<Input> inputs = {{pageview(7, 800), {}}};
    produce_inputs(cluster, inputs);
    // The worker is the only producer from now on: its output and its first two dead letters are
    // refused, the third is taken.
    constexpr auto too_large = RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE;
    REQUIRE(rd_kafka_mock_broker_push_request_error_rtts(cluster.mock(), 1, produce_api_key, 3, too_large, 0, too_large,
                                                         0, too_large, 0) == RD_KAFKA_RESP_ERR_NO_ERROR);

    auto worker = cluster.start_worker("refused", "worker");
    INFO("worker stderr:\n" << worker->stderr_tail());
    GroupOffsets offsets(cluster, "refused");
    REQUIRE(offsets.wait_all_committed(60s));
    size_t pending = 1;
    CHECK(rd_kafka_mock_broker_error_stack_cnt(cluster.mock(), 1, produce_api_key, &pending) ==
          RD_KAFKA_RESP_ERR_NO_ERROR);
    CHECK(pending == 0);  // the worker met all three refusals
    CHECK(stop_worker(*worker) == 0);
    CHECK(worker->stdout_text().find("\"message_too_large\":1") != std::string::npos);

    const std::vector<ReadRecord> records = read_records(cluster);
    CHECK(in_topic(records, cluster.topics().analytics).empty());
    const std::vector<ReadRecord> dead = in_topic(records, cluster.topics().dead_letter);
    REQUIRE(dead.size() == 1);
    const ReadRecord& r = dead.front();
    CHECK(r.header("dlq_reason") == "message_too_large");
    CHECK(r.header("dlq_step") == "produce");
    CHECK(r.header("dlq_offset") == "0");
    // Each refusal of the dead letter halved it.
    REQUIRE(r.header("dlq_truncated") == "true");
    const size_t original = std::stoul(r.header("dlq_original_bytes"));
    CHECK(original > 800);
    CHECK(r.value_size <= original / 2);
}

namespace {

// A worker whose analytics go to a one-partition topic with a small max.message.bytes, on the
// real broker; `topic` receives the topic's name.
std::unique_ptr<ChildProcess> start_with_small_topic(TestCluster& cluster, const std::string& group, std::string& topic,
                                                     const std::string& guarantee = "at-least-once") {
    topic = cluster.create_topic("analytics_small", 1, {{"max.message.bytes", std::to_string(small_topic_limit)}});
    return cluster.start_worker(group, "worker", {"--analytics-topic", topic, "--processing-guarantee", guarantee},
                                "info");
}

int64_t records_in(const TestCluster& cluster, const std::string& topic) {
    warden::kafka::ClientPtr client = warden::kafka::make_client(
        RD_KAFKA_PRODUCER, warden::kafka::make_conf({{"bootstrap.servers", cluster.brokers()}}));
    int64_t low = 0, high = 0;
    REQUIRE(rd_kafka_query_watermark_offsets(client.get(), topic.c_str(), 0, &low, &high, 5000) == 0);
    return high - low;
}

}  // namespace

TEST_CASE("oversized: an output over its topic's max.message.bytes on a real broker becomes a counted dead letter") {
    if (skipped_on_mock_cluster("a topic-level max.message.bytes")) return;
    // Exactly-once: the refusal aborts the transaction, and the redone one carries the dead letter.
    std::string guarantee;
    SUBCASE("at-least-once") { guarantee = "at-least-once"; }
    SUBCASE("exactly-once") { guarantee = "exactly-once"; }
    CAPTURE(guarantee);
    TestCluster cluster;
    std::string small_topic;
    auto worker = start_with_small_topic(cluster, "topic-limit", small_topic, guarantee);
    INFO("worker stderr:\n" << worker->stderr_tail());
    GroupOffsets offsets(cluster, "topic-limit");
    // Alone, so that nothing shares its batch; under warden's own limit (1,000,000 bytes).
    std::vector<Input> oversized = {{pageview(12, 2 * small_topic_limit), {}}};
    produce_inputs(cluster, oversized);
    REQUIRE(offsets.wait_all_committed(60s));  // refused, not produced again forever
    // The partition is not held: a later input that fits goes through.
    std::vector<Input> fitting = {{pageview(13, 100), {}}};
    produce_inputs(cluster, fitting, 1);
    REQUIRE(offsets.wait_all_committed(60s));
    CHECK(stop_worker(*worker) == 0);
    const std::string summary = worker->stdout_text();
    CHECK_MESSAGE(summary.find("\"message_too_large\":1") != std::string::npos, summary);

    if (guarantee == "exactly-once") {
        CHECK(worker->stderr_text().find("transaction aborted") != std::string::npos);
    } else {
        CHECK(records_in(cluster, small_topic) == 1);  // transaction markers take offsets too
    }
    const std::vector<ReadRecord> dead = in_topic(read_records(cluster), cluster.topics().dead_letter);
    REQUIRE(dead.size() == 1);
    CHECK(dead.front().header("dlq_reason") == "message_too_large");
    CHECK(dead.front().header("dlq_output_topic") == small_topic);
    CHECK(dead.front().header("dlq_offset") == "0");
}

// Known defect: the broker refuses a whole batch over a topic's max.message.bytes, librdkafka
// 2.0.2 fails every record of it as too large, and warden dead-letters them all, outputs that fit
// included. Kept as may_fail until refused records are told apart from their batch-mates.
TEST_CASE("oversized: outputs that fit are not dead-lettered with a batch-mate the broker refused" *
          doctest::may_fail()) {
    if (skipped_on_mock_cluster("a topic-level max.message.bytes")) return;
    TestCluster cluster;
    std::string small_topic;
    std::vector<Input> inputs = {{pageview(21, 100), {}},
                                 {pageview(22, 2 * small_topic_limit), {}},
                                 {pageview(23, 100), {}},
                                 {pageview(24, 100), {}}};
    produce_inputs(cluster, inputs);
    auto worker = start_with_small_topic(cluster, "batch-mates", small_topic);
    INFO("worker stderr:\n" << worker->stderr_tail());
    GroupOffsets offsets(cluster, "batch-mates");
    REQUIRE(offsets.wait_all_committed(60s));
    CHECK(stop_worker(*worker) == 0);
    MESSAGE("summary: " << worker->stdout_text());
    CHECK(records_in(cluster, small_topic) == 3);
    CHECK(worker->stdout_text().find("\"message_too_large\":1") != std::string::npos);
}
