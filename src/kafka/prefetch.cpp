#include "prefetch.hpp"

#include <warden/kafka_handles.hpp>

#include <algorithm>
#include <string>

namespace warden::kafka {
namespace {

// fetch.queue.backoff.ms exists from librdkafka 2.2.0 on; older clients refuse it as unknown.
constexpr int first_version_with_queue_backoff = 0x02020000;

}  // namespace

KafkaProperties prefetch_properties(int library_version, size_t members) {
    const bool short_backoff = library_version >= first_version_with_queue_backoff;
    const int kbytes = short_backoff && members > 1
                           ? std::max(min_member_prefetch_kbytes, prefetch_kbytes / static_cast<int>(members))
                           : prefetch_kbytes;
    KafkaProperties p = {
        {"queued.min.messages", "10000000"},  // librdkafka's maximum: never the limit that stops fetching
        {"queued.max.messages.kbytes", std::to_string(kbytes)},
        {"fetch.max.bytes", "16777216"},  // one fetch response may overshoot the queue limit by this much
    };
    // Where the back-off can be set, a full queue is looked at again soon after it drains.
    if (short_backoff) p.emplace_back("fetch.queue.backoff.ms", "100");
    return p;
}

bool unfetched_input(rd_kafka_t* consumer, const std::string& topic, std::span<const int32_t> partitions) {
    if (partitions.empty()) return false;
    PartitionListPtr list = make_partition_list(static_cast<int>(partitions.size()));
    for (const int32_t partition : partitions) rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition);
    if (rd_kafka_position(consumer, list.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) return false;
    for (int i = 0; i < list->cnt; ++i) {
        const rd_kafka_topic_partition_t& at = list->elems[i];
        if (at.offset < 0) continue;  // nothing consumed yet: no position to compare
        int64_t low = 0;
        int64_t high = 0;
        if (rd_kafka_get_watermark_offsets(consumer, topic.c_str(), at.partition, &low, &high) !=
            RD_KAFKA_RESP_ERR_NO_ERROR) {
            continue;
        }
        if (high - at.offset > 1) return true;
    }
    return false;
}

}  // namespace warden::kafka
