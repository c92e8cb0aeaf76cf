// kafka_bench support: options, process measurements, and running one mode in a child process
// of its own so that its peak RSS and CPU time belong to that mode alone.
#pragma once

#include <warden/kafka_properties.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace kafka_bench {

struct Options {
    size_t events = 200'000;
    int partitions = 0;  // 0: enough for the corpus to fit the mock's 5 MiB per partition
    int teams = 50;
    uint64_t seed = 42;
    std::string mode = "all";  // all, or the name of one mode (see modes())
    std::string brokers;       // an existing cluster; empty: librdkafka's mock cluster in this process
    // Set in a child: the mode it runs here, its consumer group and the prefix of its topics.
    std::string run;
    std::string group;
    std::string topic_prefix;
    double timeout_seconds = 120;
    int rounds = 3;                               // each mode runs this often, alternating; medians are reported
    int progress_ms = 0;                          // > 0: children print their progress to stderr this often
    bool exactly_once = false;                    // the worker's --processing-guarantee
    unsigned threads = 1;                         // the worker's --threads: members in its process
    warden::KafkaProperties consumer_properties;  // after warden's defaults, in both modes
    warden::KafkaProperties producer_properties;
};

// Exits with a usage message on bad arguments.
Options parse_args(int argc, char** argv);

// What a child runs: the name of a mode and the flags that set it apart (see modes()).
struct ChildRun {
    std::string mode;
    std::vector<std::string> mode_args;
    std::string brokers;
    std::string group;
    std::string topic_prefix;
};
// The arguments that make this binary run `run` and print its figures.
std::vector<std::string> child_args(const Options& options, const ChildRun& run);

// User + system time of the whole process, librdkafka's threads included.
double process_cpu_seconds();
// VmHWM: the process's peak resident set.
double peak_rss_mb();
double seconds_since(int64_t steady_ns);

// CPU seconds of each thread of this process by kind: the main thread (which runs the measured
// loop in both modes), librdkafka's threads (named rdk:*), and any other thread.
struct ThreadCpu {
    double main = 0, librdkafka = 0, other = 0;  // main: the worker's threads (the main one and other members')
};
ThreadCpu thread_cpu();
int64_t steady_now_ns();

// Progress lines on stderr (time, consumed, acknowledged, process CPU), to see stalls.
class ProgressLog {
public:
    ProgressLog(std::string mode, int interval_ms)
        : mode_(std::move(mode)), interval_ns_(int64_t{interval_ms} * 1'000'000) {}
    void update(uint64_t consumed, uint64_t acknowledged);

private:
    std::string mode_;
    int64_t interval_ns_;
    int64_t start_ns_ = steady_now_ns();
    int64_t next_ns_ = 0;
};

// Raw figures a child hands its parent, as one `kafka_bench_result name=value ...` stdout line.
using Figures = std::map<std::string, double>;
void print_figures(const Figures& figures);

// Runs this binary with `args` and returns the figures it printed. Throws std::runtime_error
// when the child fails or prints none.
Figures run_child(const std::vector<std::string>& args);

}  // namespace kafka_bench
