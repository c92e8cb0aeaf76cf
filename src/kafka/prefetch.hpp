// Consumer pre-fetch: how far `run` and `replay` read ahead, and a check that the consumer is not
// waiting on its own fetcher.
#pragma once

#include <warden/kafka_properties.hpp>

#include <librdkafka/rdkafka.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace warden::kafka {

// The high-water mark of the consumer's queue, for the whole consumer: about two seconds of input
// at the rates warden reaches on one core, so the queue outlasts librdkafka's fetch back-off.
inline constexpr int prefetch_kbytes = 65536;

// Pre-fetch properties of the consumers of `run` and `replay` (an operator's
// --consumer-property comes later and wins). librdkafka stops fetching a partition once the
// consumer's queue holds queued.min.messages messages or queued.max.messages.kbytes, and looks
// again only after a back-off: a fixed second before 2.2, fetch.queue.backoff.ms since. Partition
// queues are forwarded to the consumer's, so both limits count the whole queue: a message limit
// below a second of input idles the consumer every second. The message limit is therefore put out
// of reach and memory is bounded by bytes alone. `library_version` is rd_kafka_version()'s form.
// `members` consumers of one process (`run --threads`) split the byte budget, down to
// min_member_prefetch_kbytes each, where the back-off is short (2.2 on); before, each keeps the
// whole budget, since a smaller queue would drain within the fixed second and idle its member.
KafkaProperties prefetch_properties(int library_version = rd_kafka_version(), size_t members = 1);

inline constexpr int min_member_prefetch_kbytes = 16384;

// Whether input the consumer has not fetched yet waits on the broker: a partition among
// `partitions` whose last seen high watermark is more than one offset (a transaction marker)
// past the application's position. Uses only what the client already knows: no request is sent.
bool unfetched_input(rd_kafka_t* consumer, const std::string& topic, std::span<const int32_t> partitions);

}  // namespace warden::kafka
