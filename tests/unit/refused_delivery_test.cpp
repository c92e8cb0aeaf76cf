// What the producer does with refused records: which errors are retried, the dead letter of an
// output refused as too large, and cutting records to a size; and the producer's size setting.
#include "kafka/output_producer.hpp"
#include "kafka/refused_delivery.hpp"

#include <doctest/doctest.h>

#include <algorithm>

using namespace warden;
using namespace warden::kafka;

namespace {

OwnedRecord output_record(size_t value_size) {
    OwnedRecord r;
    r.topic = "events_analytics";
    r.key = "1:user-1";
    r.value = std::string(value_size, 'v');
    r.headers = {{"team_id", "1"}, {"verified", "false"}, {"session_id", std::nullopt}};
    return r;
}

std::string header(const OwnedRecord& r, const std::string& name) {
    const std::optional<std::string>* value = r.header(name);
    return value && *value ? **value : "<absent>";
}

}  // namespace

TEST_CASE("refused deliveries: only refusals of the record itself are not retried") {
    CHECK(classify_delivery_error(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) == DeliveryFailure::too_large);
    CHECK(classify_delivery_error(RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE) == DeliveryFailure::too_large);
    CHECK(classify_delivery_error(RD_KAFKA_RESP_ERR_INVALID_RECORD) == DeliveryFailure::refused);
    // Outages and timeouts say nothing against the record: it is produced again.
    CHECK(classify_delivery_error(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT) == DeliveryFailure::transient);
    CHECK(classify_delivery_error(RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS) == DeliveryFailure::transient);
    CHECK(classify_delivery_error(RD_KAFKA_RESP_ERR__TRANSPORT) == DeliveryFailure::transient);
    CHECK(classify_delivery_error(RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) == DeliveryFailure::transient);
}

TEST_CASE("refused deliveries: the size librdkafka compares with message.max.bytes") {
    OwnedRecord r;
    CHECK(produced_size(r) == record_framing_max);
    r.key = "abc";
    r.value = std::string(200, 'x');
    r.headers = {{"n", "vv"}, {"null", std::nullopt}};
    // Header lengths are zigzag varints: 1 byte each below 64.
    CHECK(produced_size(r) == record_framing_max + 3 + 200 + (1 + 2 + 2) + (4 + 0 + 2));
    r.headers = {{"h", std::string(100, 'y')}};  // zigzag(100) = 200 takes 2 bytes
    CHECK(produced_size(r) == record_framing_max + 3 + 200 + 1 + 100 + 1 + 2);
}

TEST_CASE("refused deliveries: an output refused as too large becomes a dead letter naming its input") {
    const OwnedRecord output = output_record(5000);
    const OwnedRecord dead = dead_letter_for(
        output, {"events_plugin_ingestion", 3, 42, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, 1718000000000}, "events_dlq");
    CHECK(dead.topic == "events_dlq");
    CHECK(dead.key == output.key);
    CHECK(dead.value == output.value);
    CHECK(header(dead, "dlq_reason") == "message_too_large");
    CHECK(header(dead, "dlq_step") == "produce");
    CHECK(header(dead, "dlq_topic") == "events_plugin_ingestion");
    CHECK(header(dead, "dlq_partition") == "3");
    CHECK(header(dead, "dlq_offset") == "42");
    CHECK(header(dead, "dlq_output_topic") == "events_analytics");
    CHECK(header(dead, "dlq_timestamp") == "1718000000000");
    CHECK(header(dead, "dlq_error").find("too large") != std::string::npos);
    CHECK(header(dead, "team_id") == "1");  // the output's headers stay
}

TEST_CASE("refused deliveries: cutting takes the value first, records its size, and fits the budget") {
    const OwnedRecord record = output_record(5000);
    CHECK(cut_to_fit(record, produced_size(record))->value == record.value);  // fits: unchanged
    CHECK(cut_to_fit(record, produced_size(record))->header("dlq_truncated") == nullptr);

    const std::optional<OwnedRecord> cut = cut_to_fit(record, 1000);
    REQUIRE(cut);
    CHECK(produced_size(*cut) <= 1000);
    CHECK(produced_size(*cut) >= 990);  // no more is given up than needed
    CHECK(header(*cut, "dlq_truncated") == "true");
    CHECK(header(*cut, "dlq_original_bytes") == std::to_string(record_bytes(record)));
    CHECK(cut->key == record.key);
    CHECK(header(*cut, "team_id") == "1");
    CHECK(record.value->starts_with(*cut->value));

    // Cut again, it keeps the first size it had.
    const std::optional<OwnedRecord> again = cut_to_fit(*cut, 500);
    REQUIRE(again);
    CHECK(produced_size(*again) <= 500);
    CHECK(header(*again, "dlq_truncated") == "true");
    CHECK(header(*again, "dlq_original_bytes") == std::to_string(record_bytes(record)));
}

TEST_CASE("refused deliveries: when the value is not enough, other headers go, then the key; dlq_* stay") {
    OwnedRecord record = output_record(100);
    record.set_header("dlq_reason", "failed_parse_message");
    record.headers.emplace_back("x-large", std::string(600, 'h'));
    const std::optional<OwnedRecord> cut = cut_to_fit(record, 300);
    REQUIRE(cut);
    CHECK(produced_size(*cut) <= 300);
    CHECK(cut->header("x-large") == nullptr);
    CHECK(cut->header("team_id") == nullptr);
    CHECK(header(*cut, "dlq_reason") == "failed_parse_message");
    CHECK(header(*cut, "dlq_truncated") == "true");
    CHECK(header(*cut, "dlq_original_bytes") == std::to_string(record_bytes(record)));
    CHECK(cut->key);

    const std::optional<OwnedRecord> keyless = cut_to_fit(record, produced_size(*cut) - cut->value->size() - 3);
    REQUIRE(keyless);
    CHECK_FALSE(keyless->key);

    CHECK_FALSE(cut_to_fit(record, 40));  // not even the dead-letter headers fit

    // The last resort keeps the dlq_* headers alone, and says it was cut.
    const OwnedRecord bare = bare_dead_letter(record);
    CHECK_FALSE(bare.key);
    CHECK(bare.value == std::string());
    CHECK(bare.header("x-large") == nullptr);
    CHECK(header(bare, "dlq_reason") == "failed_parse_message");
    CHECK(header(bare, "dlq_truncated") == "true");
    CHECK(header(bare, "dlq_original_bytes") == std::to_string(record_bytes(record)));
    CHECK(produced_size(bare) < produced_size(*cut));
}

TEST_CASE("refused deliveries: a cut never splits a UTF-8 character") {
    OwnedRecord record;
    record.topic = "events_dlq";
    const std::string text = "ab\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";  // a, b, é, €, 😀
    record.value = text;
    record.set_header("dlq_truncated", "true");  // cut before: cutting again adds nothing but the value's room
    record.set_header("dlq_original_bytes", "4096");
    const std::vector<size_t> boundaries = {0, 1, 2, 4, 7, 11};
    // The record without its value: what a budget must hold besides the value.
    OwnedRecord frame = record;
    frame.value = std::string();
    for (size_t room = 0; room < text.size(); ++room) {
        CAPTURE(room);
        const std::optional<OwnedRecord> cut = cut_to_fit(record, produced_size(frame) + room);
        REQUIRE(cut);
        const size_t kept = cut->value->size();
        const size_t expected = *std::prev(std::upper_bound(boundaries.begin(), boundaries.end(), room));
        CHECK(kept == expected);  // the longest whole-character prefix that fits
        CHECK(text.starts_with(*cut->value));
    }
}

TEST_CASE("producer settings: message.max.bytes follows the core's limit, and an explicit setting wins") {
    auto value_of = [](const KafkaProperties& p, const std::string& name) {
        std::string value;
        for (const auto& [n, v] : p) {
            if (n == name) value = v;  // the last one applies
        }
        return value;
    };
    CHECK(value_of(output_producer_properties({}, 1'000'000), "message.max.bytes") == "1000036");
    CHECK(value_of(output_producer_properties({}, 64'000), "message.max.bytes") == "64036");
    CHECK(value_of(output_producer_properties({}, 10), "message.max.bytes") == "1000");  // librdkafka's minimum
    CHECK(value_of(output_producer_properties({{"message.max.bytes", "2000"}}, 1'000'000), "message.max.bytes") ==
          "2000");
    CHECK(value_of(output_producer_properties({}, 1'000'000), "allow.auto.create.topics") == "false");
}
