// dead_letters: what the dead-letter topic holds, counted over a fixed offset range, with
// redacted samples (`warden dlq inspect`).
#pragma once

#include <warden/kafka_properties.hpp>
#include <warden/offset_spec.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace warden {

struct DeadLetterInspectOptions {
    std::string brokers;
    std::string topic = "events_dlq";
    OffsetSpec from{OffsetSpec::Kind::earliest, 0};
    OffsetSpec to{OffsetSpec::Kind::latest, 0};  // exclusive
    KafkaProperties consumer_properties;
    size_t samples_per_reason = 3;
    size_t sample_bytes = 300;                      // of each key and value shown, after redaction
    std::chrono::milliseconds broker_wait{60'000};  // longest wait for the brokers' first answer
};

// One dead letter as shown: its place, its dlq_* headers, and its key and value with every secret
// or personal API key redacted, then cut to `sample_bytes`, bytes outside printable ASCII
// written as \xNN.
struct DeadLetterSample {
    int32_t partition = 0;
    int64_t offset = 0;
    std::string reason;
    std::string step;
    std::string error;
    std::string source;  // dlq_topic/dlq_partition@dlq_offset
    std::string key;
    std::string value;
    size_t value_bytes = 0;                 // before cutting
    std::vector<std::string> header_names;  // the original headers' names (values may be tokens)
};

struct DeadLetterInspection {
    std::string topic;
    std::map<int32_t, std::pair<int64_t, int64_t>> ranges;  // partition: [start, end)
    uint64_t messages = 0;
    // "(none)" for a message without the header: not written by warden. At most 1,000 names
    // each; the rest count as "(other)".
    std::map<std::string, uint64_t> by_reason;
    std::map<std::string, uint64_t> by_step;
    std::map<std::string, uint64_t> by_source;    // "topic/partition" of the input
    std::map<std::string, uint64_t> by_attempts;  // dlq_attempts ("1" without it: `dlq redrive`)
    std::vector<DeadLetterSample> samples;        // the first samples_per_reason of each reason
    bool complete = false;                        // every partition read to its end

    std::string to_json() const;
};

// Reads the range of the dead-letter topic with direct assignment (no group, nothing committed)
// and counts what it holds. Stops early, incomplete, when `stop` is set. Throws
// std::runtime_error when the brokers do not answer within broker_wait or the topic is missing.
DeadLetterInspection inspect_dead_letters(const DeadLetterInspectOptions& options, const std::atomic<bool>& stop);

}  // namespace warden
