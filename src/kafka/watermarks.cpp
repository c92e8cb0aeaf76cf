#include "watermarks.hpp"

#include <warden/kafka_handles.hpp>

#include <algorithm>

namespace warden::kafka {
namespace {

// Asks for `which` (RD_KAFKA_OFFSET_BEGINNING or _END: the ListOffsets "timestamps" of the first
// and next offsets) of every partition; fills `offsets` in the list's order.
rd_kafka_resp_err_t list_offsets(rd_kafka_t* client, const std::string& topic, const std::vector<int32_t>& partitions,
                                 int64_t which, std::chrono::steady_clock::time_point deadline,
                                 std::vector<int64_t>& offsets) {
    PartitionListPtr list = make_partition_list(static_cast<int>(partitions.size()));
    for (int32_t p : partitions) rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p)->offset = which;
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return RD_KAFKA_RESP_ERR__TIMED_OUT;
    if (rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(client, list.get(), static_cast<int>(left.count())))
        return err;
    offsets.clear();
    for (int i = 0; i < list->cnt; ++i) {
        if (list->elems[i].err) return list->elems[i].err;
        offsets.push_back(list->elems[i].offset);
    }
    return RD_KAFKA_RESP_ERR_NO_ERROR;
}

}  // namespace

rd_kafka_resp_err_t query_watermarks(rd_kafka_t* client, const std::string& topic,
                                     const std::vector<int32_t>& partitions, std::chrono::milliseconds timeout,
                                     std::map<int32_t, Watermarks>& out) {
    if (partitions.empty()) return RD_KAFKA_RESP_ERR_NO_ERROR;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::vector<int64_t> lows, highs;
    if (rd_kafka_resp_err_t err = list_offsets(client, topic, partitions, RD_KAFKA_OFFSET_BEGINNING, deadline, lows))
        return err;
    if (rd_kafka_resp_err_t err = list_offsets(client, topic, partitions, RD_KAFKA_OFFSET_END, deadline, highs))
        return err;
    for (size_t i = 0; i < partitions.size(); ++i) {
        // An empty partition may answer the first offset with -1.
        const int64_t high = std::max<int64_t>(highs[i], 0);
        out[partitions[i]] = {lows[i] < 0 ? high : lows[i], high};
    }
    return RD_KAFKA_RESP_ERR_NO_ERROR;
}

}  // namespace warden::kafka
