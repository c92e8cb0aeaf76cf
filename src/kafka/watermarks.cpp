#include "watermarks.hpp"

#include "transient_errors.hpp"

#include <warden/kafka_handles.hpp>

#include <algorithm>
#include <thread>

namespace warden::kafka {
namespace {

using Clock = std::chrono::steady_clock;

// Asks for `which` (RD_KAFKA_OFFSET_BEGINNING or _END: the ListOffsets "timestamps" of the first
// and next offsets) of every partition; fills `offsets` in the list's order.
rd_kafka_resp_err_t list_offsets(rd_kafka_t* client, const std::string& topic, const std::vector<int32_t>& partitions,
                                 int64_t which, Clock::time_point deadline, std::vector<int64_t>& offsets) {
    PartitionListPtr list = make_partition_list(static_cast<int>(partitions.size()));
    for (int32_t p : partitions) rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p)->offset = which;
    if (rd_kafka_resp_err_t err = offsets_for_times(client, list.get(), deadline)) return err;
    offsets.clear();
    for (int i = 0; i < list->cnt; ++i) offsets.push_back(list->elems[i].offset);
    return RD_KAFKA_RESP_ERR_NO_ERROR;
}

// The first partition error of an answered list, if any.
rd_kafka_resp_err_t first_partition_error(const rd_kafka_topic_partition_list_t* list) {
    for (int i = 0; i < list->cnt; ++i) {
        if (list->elems[i].err) return list->elems[i].err;
    }
    return RD_KAFKA_RESP_ERR_NO_ERROR;
}

}  // namespace

rd_kafka_resp_err_t offsets_for_times(rd_kafka_t* client, rd_kafka_topic_partition_list_t* list,
                                      Clock::time_point deadline) {
    auto pause = std::chrono::milliseconds(50);
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) return RD_KAFKA_RESP_ERR__TIMED_OUT;
        rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(client, list, static_cast<int>(left.count()));
        if (!err) err = first_partition_error(list);
        // The pause lets the leader refresh librdkafka started on the error land first.
        if (!leadership_in_flux(err) || Clock::now() + pause >= deadline) return err;
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(1000));
    }
}

rd_kafka_resp_err_t query_watermarks(rd_kafka_t* client, const std::string& topic,
                                     const std::vector<int32_t>& partitions, std::chrono::milliseconds timeout,
                                     std::map<int32_t, Watermarks>& out) {
    if (partitions.empty()) return RD_KAFKA_RESP_ERR_NO_ERROR;
    const auto deadline = Clock::now() + timeout;
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
