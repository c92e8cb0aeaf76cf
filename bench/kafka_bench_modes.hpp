// The measured modes of kafka_bench. Each consumes the whole input topic once under its own
// consumer group and returns raw figures for the timed window: from the first consumed message to
// the moment every input is consumed and every output acknowledged.
#pragma once

#include "kafka_bench_support.hpp"

#include <warden/core.hpp>

#include <string>
#include <vector>

namespace kafka_bench {

// The topics of a run: warden's default names behind the cluster's prefix.
struct BenchTopics {
    std::string input;
    warden::TopicNames outputs;
    std::string passthrough;  // where the passthrough copies the input

    explicit BenchTopics(const std::string& prefix);
    std::vector<std::string> all() const;
};

enum class Runner { passthrough, warden };

// A measured mode: what runs, and the flags that set it apart from the others (the child parses
// them with the rest of its options, see parse_args). Warden modes differ only in worker
// settings, so comparing another one is one more entry in modes().
struct Mode {
    std::string name;
    Runner runner;
    std::vector<std::string> args;
    bool needs_real_brokers = false;
};

// Every mode, in the order they run and are printed; the first is the baseline of the ratios.
const std::vector<Mode>& modes();
// The mode named `name`; throws std::invalid_argument for an unknown name.
const Mode& mode_named(const std::string& name);

// Copies every input (key, value, headers) to the passthrough topic with warden's client settings
// and offset discipline, without any processing: the ceiling warden is compared with.
Figures run_passthrough(const Options& options);

// The real warden::Worker over the same input.
Figures run_warden(const Options& options);

}  // namespace kafka_bench
