// What the producer does with a record the client or the broker refused: which refusals are worth
// producing again, and the dead letter that replaces a record refused as too large, cut until it
// fits. Pure functions over owned copies, so they are tested without a broker.
#pragma once

#include <warden/core.hpp>

#include <librdkafka/rdkafka.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace warden::kafka {

// A record to produce (again), owning its bytes. A header value may be null.
struct OwnedRecord {
    std::string topic;
    std::optional<std::string> key;
    std::optional<std::string> value;
    std::vector<std::pair<std::string, std::optional<std::string>>> headers;

    const std::optional<std::string>* header(std::string_view name) const;
    void set_header(std::string_view name, std::optional<std::string> value);
};

// How librdkafka counts a record against message.max.bytes: key, value, headers with their
// length prefixes, and the most a record's own framing can take (36 bytes). The broker counts a
// record batch, which adds record_batch_overhead once per batch.
size_t produced_size(const OwnedRecord& record);
inline constexpr size_t record_framing_max = 36;     // RD_KAFKAP_MESSAGE_V2_MAX_OVERHEAD
inline constexpr size_t record_batch_overhead = 61;  // RD_KAFKAP_MSGSET_V2_SIZE

// The record's size as the core counts every record it produces (record_wire_size), for the
// dlq_original_bytes header that dead letters cut by the core carry too.
size_t record_bytes(const OwnedRecord& record);

enum class DeliveryFailure {
    transient,  // the record is fine; the cluster is not (down, timed out, not authorised yet): retry
    too_large,  // the record exceeds what the client or broker accepts: retrying cannot help
    refused,    // the broker refuses the record itself for good (e.g. a topic policy): retrying cannot help
};

// Classifies a per-message error of librdkafka or the broker. _MSG_TIMED_OUT is transient although
// librdkafka calls it permanent: it means the leader could not be reached in time, not that the
// record is wrong.
DeliveryFailure classify_delivery_error(rd_kafka_resp_err_t error);

// Where a refused output came from, for its dead letter's headers.
struct RefusedOutput {
    std::string source_topic;
    int32_t partition = 0;
    int64_t offset = 0;
    rd_kafka_resp_err_t error = RD_KAFKA_RESP_ERR_NO_ERROR;
    int64_t now_ms = 0;
};

// The dead letter replacing `output` on `dead_letter_topic`: the output's key, value and headers,
// plus dlq_reason=message_too_large, dlq_step=produce, dlq_error, dlq_timestamp, dlq_topic,
// dlq_partition, dlq_offset (the input) and dlq_output_topic. Not cut yet: see cut_to_fit.
OwnedRecord dead_letter_for(const OwnedRecord& output, const RefusedOutput& source,
                            const std::string& dead_letter_topic);

// `record` made to fit `budget` (as produced_size counts): the value is cut first (at a UTF-8
// character boundary), then the headers other than dlq_* go, then the key. A cut record carries
// `dlq_truncated: true` and `dlq_original_bytes` (record_bytes before its first cut), as dead
// letters cut by the core do. Nothing when even the record without value, key and other headers
// exceeds the budget.
std::optional<OwnedRecord> cut_to_fit(OwnedRecord record, size_t budget);

// The smallest form of a dead letter: its dlq_* headers (and the cut marks) alone.
OwnedRecord bare_dead_letter(OwnedRecord record);

}  // namespace warden::kafka
