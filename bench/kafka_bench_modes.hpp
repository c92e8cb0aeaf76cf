// The two measured modes of kafka_bench. Each consumes the whole input topic once under its own
// consumer group and returns raw figures for the timed window: from the first consumed message to
// the moment every input is consumed and every output acknowledged.
#pragma once

#include "kafka_bench_support.hpp"

namespace kafka_bench {

inline constexpr const char* passthrough_topic = "bench_passthrough_out";

// Copies every input (key, value, headers) to passthrough_topic with warden's client settings and
// offset discipline, without any processing: the ceiling warden is compared with.
Figures run_passthrough(const Options& options);

// The real warden::Worker over the same input.
Figures run_warden(const Options& options);

}  // namespace kafka_bench
