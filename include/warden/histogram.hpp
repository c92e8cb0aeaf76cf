// histogram: fixed-bucket latency histograms, cheap to record on the hot path and copied into
// snapshots for the metrics endpoint.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>

namespace warden {

struct LatencyHistogram {
    // Upper bounds in seconds (Prometheus `le`), from 0.5 ms to 5 s; the last bucket is +Inf.
    static constexpr std::array<double, 13> bounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                      0.1,    0.25,  0.5,    1.0,   2.5,  5.0};
    std::array<uint64_t, bounds.size() + 1> counts{};  // per bucket, not cumulative
    double sum_seconds = 0;
    uint64_t count = 0;

    void record(double seconds) {
        size_t i = 0;
        while (i < bounds.size() && seconds > bounds[i]) ++i;
        ++counts[i];
        sum_seconds += seconds;
        ++count;
    }
    void record(std::chrono::steady_clock::duration d) { record(std::chrono::duration<double>(d).count()); }
    // Adds the observations of `other` (another thread's histogram of the same thing).
    void add(const LatencyHistogram& other) {
        for (size_t i = 0; i < counts.size(); ++i) counts[i] += other.counts[i];
        sum_seconds += other.sum_seconds;
        count += other.count;
    }
};

}  // namespace warden
