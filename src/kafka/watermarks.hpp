// Offsets of many partitions at once, asked by first, next or time, within a deadline.
#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace warden::kafka {

struct Watermarks {
    int64_t low = 0;   // first offset still stored
    int64_t high = 0;  // offset the next message will get
};

// rd_kafka_offsets_for_times on `list` (a time, or RD_KAFKA_OFFSET_BEGINNING/_END, in each
// offset), asked again while the answer is leadership_in_flux (transient_errors.hpp), until `deadline`: librdkafka
// refreshes the leaders on NOT_LEADER_FOR_PARTITION but hands the error back. On an error the
// list is left as it was, and the error is the last one met.
rd_kafka_resp_err_t offsets_for_times(rd_kafka_t* client, rd_kafka_topic_partition_list_t* list,
                                      std::chrono::steady_clock::time_point deadline);

// The watermarks of `partitions` of `topic`: two ListOffsets requests per partition leader, not
// two per partition. Unlike rd_kafka_query_watermark_offsets, which waits for a leader that is
// down until the socket timeout (a minute) whatever its own timeout, this returns within
// `timeout`. On an error `out` is left untouched.
rd_kafka_resp_err_t query_watermarks(rd_kafka_t* client, const std::string& topic,
                                     const std::vector<int32_t>& partitions, std::chrono::milliseconds timeout,
                                     std::map<int32_t, Watermarks>& out);

}  // namespace warden::kafka
