#include "offset_range.hpp"

#include "watermarks.hpp"

#include <warden/kafka_handles.hpp>

#include <algorithm>
#include <stdexcept>

namespace warden::kafka {
namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

int64_t OffsetRangeResolver::position(const OffsetSpec& spec, int32_t partition, int64_t low, int64_t high) {
    switch (spec.kind) {
        case OffsetSpec::Kind::earliest: return low;
        case OffsetSpec::Kind::latest: return high;
        case OffsetSpec::Kind::offset: return std::clamp(spec.value, low, high);
        case OffsetSpec::Kind::timestamp: break;
    }
    PartitionListPtr list = make_partition_list(1);
    rd_kafka_topic_partition_list_add(list.get(), topic_.c_str(), partition)->offset = spec.value;
    if (rd_kafka_resp_err_t err = offsets_for_times(consumer_, list.get(), Clock::now() + request_timeout_)) {
        throw std::runtime_error("cannot look up offsets by time in " + topic_ + ": " + rd_kafka_err2str(err));
    }
    const int64_t offset = list->elems[0].offset;
    if (offset >= 0) return std::clamp(offset, low, high);
    // -1 means no message at or after the time, unless the broker cannot look times up (the
    // mock cluster cannot): then the last message, if it is that late, proves the broker wrong.
    if (high > low && timestamp_at(partition, high - 1) >= spec.value) {
        return search_by_time(partition, spec.value, low, high);
    }
    return high;
}

// The timestamp of the message at `offset`, read with a one-off assignment; -1 when unreadable.
int64_t OffsetRangeResolver::timestamp_at(int32_t partition, int64_t offset) {
    PartitionListPtr list = make_partition_list(1);
    rd_kafka_topic_partition_list_add(list.get(), topic_.c_str(), partition)->offset = offset;
    if (rd_kafka_assign(consumer_, list.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) return -1;
    int64_t timestamp = -1;
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (Clock::now() < deadline) {
        MessagePtr m(rd_kafka_consumer_poll(consumer_, 100));
        if (!m || m->partition != partition) continue;
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR && m->offset >= offset) {
            rd_kafka_timestamp_type_t type;
            timestamp = rd_kafka_message_timestamp(m.get(), &type);
            break;
        }
        if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) break;
    }
    rd_kafka_assign(consumer_, nullptr);
    return timestamp;
}

// The first offset in [low, high) whose message is at or after `time`, by binary search over
// message timestamps (exact when timestamps grow with offsets, as with one producer clock).
int64_t OffsetRangeResolver::search_by_time(int32_t partition, int64_t time, int64_t low, int64_t high) {
    int64_t first = low, last = high;  // the answer is in [first, last]
    while (first < last) {
        const int64_t middle = first + (last - first) / 2;
        const int64_t t = timestamp_at(partition, middle);
        if (t < 0) throw std::runtime_error("cannot read offset " + std::to_string(middle) + " of " + topic_);
        if (t >= time) {
            last = middle;
        } else {
            first = middle + 1;
        }
    }
    return first;
}

}  // namespace warden::kafka
