// Where an offset spec (earliest, latest, an offset, a time) falls in one partition of a topic,
// for the commands that read a fixed range: replay and dlq inspect.
#pragma once

#include <warden/offset_spec.hpp>

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdint>
#include <string>

namespace warden::kafka {

class OffsetRangeResolver {
public:
    // `consumer` is assigned and unassigned while a time is looked up by reading messages: use
    // it before its real assignment.
    OffsetRangeResolver(rd_kafka_t* consumer, std::string topic, std::chrono::milliseconds request_timeout)
        : consumer_(consumer), topic_(std::move(topic)), request_timeout_(request_timeout) {}

    // The offset `spec` names in `partition`, whose messages are [low, high): offsets are clamped
    // to it; a time is the first message at or after it (the brokers' time index, or a binary
    // search over message timestamps where the brokers cannot look times up, as the mock
    // cluster cannot), `high` when none is that late. Throws std::runtime_error when the
    // brokers do not answer.
    int64_t position(const OffsetSpec& spec, int32_t partition, int64_t low, int64_t high);

    // Whether a start resolved to the log start offset `low` may have lost records to retention:
    // an offset below it, or a time (the deleted records' times are unknown). `earliest` asks for
    // whatever is there.
    static bool may_precede_log_start(const OffsetSpec& from, int64_t low) {
        return (from.kind == OffsetSpec::Kind::offset && from.value < low) || from.kind == OffsetSpec::Kind::timestamp;
    }

private:
    int64_t timestamp_at(int32_t partition, int64_t offset);
    int64_t search_by_time(int32_t partition, int64_t time, int64_t low, int64_t high);

    rd_kafka_t* consumer_;
    std::string topic_;
    std::chrono::milliseconds request_timeout_;
};

}  // namespace warden::kafka
