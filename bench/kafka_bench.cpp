// kafka_bench: end-to-end throughput through Kafka, warden against a passthrough that copies
// every input unchanged with the same client settings. Prints the modes side by side, the ratio,
// then one JSON line. Each mode runs in a child process of its own (this binary re-executed with
// --run), so CPU time and peak RSS are per mode. The cluster is librdkafka's mock in this process
// (its CPU is counted apart and not in the modes'), or an existing one given with --brokers, on
// which the bench creates uniquely named topics and deletes them afterwards. Each mode runs
// --rounds times, alternating, and the median run is reported. Defaults (200k events, ~145 MB, 3
// rounds) take about 45 s in all on the mock.
//
//   kafka_bench [--events N] [--partitions P] [--teams T] [--seed S] [--mode all|MODE]
//               [--consumer-property name=value]... [--producer-property name=value]... [--rounds R]
//               [--progress-ms MS] [--brokers HOST:PORT,...]
#include "kafka_bench_cluster.hpp"
#include "kafka_bench_modes.hpp"
#include "kafka_bench_support.hpp"

#include <warden/json_text.hpp>

#include <warden/capture_producer.hpp>

#include <warden/files.hpp>
#include <warden/kafka_properties.hpp>
#include <warden/loadgen.hpp>
#include <warden/log.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

using namespace kafka_bench;

namespace {

// The mock keeps at most 5 MiB per partition and silently drops older data; stay well below.
constexpr double partition_budget_bytes = 4.0 * 1024 * 1024;
constexpr double record_overhead_bytes = 80;  // batch and record framing per message, roughly
constexpr double target_ratio = 0.70;

struct Corpus {
    uint64_t value_bytes = 0;  // the "input MB/s" figure counts values, like pipeline_bench
    double fullest_partition_bytes = 0;
    double seconds = 0;
};

// Fills the input topic as fast as possible: this producer is not the one being measured. The
// bytes each message takes are summed per partition as its delivery reports where it went.
Corpus preload(const std::string& brokers, const std::string& topic, const Options& o, int partitions) {
    const int64_t start = steady_now_ns();
    std::vector<double> bytes_per_partition(static_cast<size_t>(partitions));
    std::vector<size_t> message_bytes(o.events);
    warden::CaptureProducer producer(brokers, topic,
                                     {{"enable.idempotence", "false"},
                                      {"acks", "1"},
                                      {"linger.ms", "50"},
                                      {"batch.num.messages", "100000"},
                                      {"queue.buffering.max.messages", "1000000"},
                                      {"queue.buffering.max.kbytes", "1048576"}},
                                     [&](uint64_t n, int32_t partition, int64_t) {
                                         bytes_per_partition.at(static_cast<size_t>(partition)) +=
                                             static_cast<double>(message_bytes[n]) + record_overhead_bytes;
                                     });
    Corpus corpus;
    warden::loadgen::EventGenerator generator(o.seed, o.teams);
    for (size_t n = 0; n < o.events; ++n) {
        const warden::loadgen::GeneratedMessage m = generator.next(n);
        message_bytes[n] = m.key.size() + m.value.size();
        for (const auto& [name, value] : m.headers) message_bytes[n] += name.size() + value.size();
        corpus.value_bytes += m.value.size();
        producer.send(m.key, m.value, m.headers, n);
    }
    if (!producer.flush(std::chrono::seconds(60))) {
        throw std::runtime_error("preload: " + std::to_string(producer.failed()) +
                                 " deliveries failed or the flush timed out");
    }
    corpus.fullest_partition_bytes = *std::max_element(bytes_per_partition.begin(), bytes_per_partition.end());
    corpus.seconds = seconds_since(start);
    return corpus;
}

int partitions_for(const Options& o) {
    if (o.partitions > 0) return o.partitions;
    const double bytes = static_cast<double>(o.events) * 900;  // ~720 B values + key, headers, framing
    const int needed = static_cast<int>(std::ceil(bytes / (partition_budget_bytes * 0.75)));  // room for skew
    return std::max(16, (needed + 7) / 8 * 8);
}

struct ModeResult {
    Figures raw;
    double events_per_s = 0, input_mb_per_s = 0, cpu_us_per_event = 0;
};

ModeResult derive(Figures raw, const Options& o, const Corpus& corpus) {
    ModeResult r;
    r.raw = std::move(raw);
    const double events = r.raw["events"], seconds = r.raw["seconds"];
    r.events_per_s = events / seconds;
    r.input_mb_per_s =
        static_cast<double>(corpus.value_bytes) * (events / static_cast<double>(o.events)) / seconds / 1e6;
    r.cpu_us_per_event = r.raw["cpu_seconds"] / events * 1e6;
    return r;
}

double figure_or_zero(const Figures& figures, const std::string& name) {
    auto it = figures.find(name);
    return it == figures.end() ? 0 : it->second;
}

std::string properties_json(const warden::KafkaProperties& properties) {
    std::string out = "[";
    for (const auto& [name, value] : properties) {
        if (out.size() > 1) out += ',';
        warden::json::append_json_string(out, name + "=" + value);
    }
    return out + "]";
}

// The broker's CPU is known only for the mock, which runs in this process.
std::string mode_json(const ModeResult& r, bool mock) {
    char buf[768];
    std::snprintf(
        buf, sizeof buf,
        R"({"events_per_s":%.0f,"input_mb_per_s":%.1f,"seconds":%.3f,"cpu_seconds":%.3f,)"
        R"("cpu_us_per_event":%.2f,"main_thread_us_per_event":%.2f,"librdkafka_us_per_event":%.2f,"peak_rss_mb":%.1f,"outputs":%.0f,"join_seconds":%.2f,"fetch_pauses":%.0f,)"
        R"("fetch_stall_seconds":%.3f,"other_cpu_seconds":%.2f)",
        r.events_per_s, r.input_mb_per_s, r.raw.at("seconds"), r.raw.at("cpu_seconds"), r.cpu_us_per_event,
        r.raw.at("main_thread_cpu_seconds") / r.raw.at("events") * 1e6,
        r.raw.at("librdkafka_cpu_seconds") / r.raw.at("events") * 1e6, r.raw.at("peak_rss_mb"), r.raw.at("outputs"),
        r.raw.at("join_seconds"), figure_or_zero(r.raw, "pauses"), figure_or_zero(r.raw, "fetch_stall_seconds"),
        r.raw.at("other_cpu_seconds"));
    std::string json = buf;
    if (mock) json += ",\"broker_cpu_seconds\":" + std::to_string(r.raw.at("broker_cpu_seconds"));
    return json + "}";
}

// The runs of one mode; the median run by events/s stands for the mode.
struct ModeRuns {
    std::string mode;
    std::vector<ModeResult> runs;
    const ModeResult& median() const {
        std::vector<const ModeResult*> sorted;
        for (const ModeResult& r : runs) sorted.push_back(&r);
        std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->events_per_s < b->events_per_s; });
        return *sorted[sorted.size() / 2];
    }
};

void print_row(const char* label, const char* format, const std::vector<ModeRuns>& modes,
               double (*figure)(const ModeResult&)) {
    std::printf("%-22s", label);
    for (const ModeRuns& m : modes) {
        char cell[64];
        std::snprintf(cell, sizeof cell, format, figure(m.median()));
        std::printf("%20s", cell);
    }
    std::printf("\n");
}

std::string runs_text(const ModeRuns& m, const char* separator) {
    std::string out;
    for (const ModeResult& r : m.runs)
        out += (out.empty() ? "" : separator) + std::to_string(std::lround(r.events_per_s));
    return out;
}

// A consumer group name for a run: no spaces, whatever the mode is called.
std::string group_name(const std::string& prefix, const std::string& mode, int round) {
    std::string group = prefix + "bench-" + mode + "-" + std::to_string(round);
    std::replace(group.begin(), group.end(), ' ', '-');
    return group;
}

int orchestrate(const Options& o) {
    std::vector<const Mode*> selected;
    for (const Mode& mode : modes()) {
        if (mode.needs_real_brokers && o.brokers.empty()) continue;
        if (o.mode == "all" || o.mode == mode.name) selected.push_back(&mode);
    }
    if (selected.empty()) {
        std::fprintf(stderr, "kafka_bench: no mode named %s\n", o.mode.c_str());
        return 2;
    }
    BenchCluster cluster(o.brokers);
    const BenchTopics topics(cluster.topic_prefix());
    const int partitions = partitions_for(o);
    // Every topic exists before any client: auto-created topics stall the first produce, and real
    // brokers here create none.
    cluster.create_topics(topics.all(), partitions);
    const Corpus corpus = preload(cluster.bootstraps(), topics.input, o, partitions);
    if (cluster.is_mock() && corpus.fullest_partition_bytes > partition_budget_bytes) {
        std::fprintf(stderr,
                     "kafka_bench: a partition would hold %.1f MiB, more than the mock keeps; raise --partitions\n",
                     corpus.fullest_partition_bytes / 1048576);
        return 1;
    }
    if (cluster.is_mock()) {
        std::printf("cluster               librdkafka's mock, in this process\n");
    } else {
        std::printf("cluster               %s, topics %s*\n", cluster.bootstraps().c_str(),
                    cluster.topic_prefix().c_str());
    }
    std::printf(
        "corpus                %zu events, %.1f MB of values (%.0f B/event), %d partitions "
        "(fullest ~%.1f MiB), %d teams, seed %llu, preloaded in %.1f s\n",
        o.events, static_cast<double>(corpus.value_bytes) / 1e6,
        static_cast<double>(corpus.value_bytes) / static_cast<double>(o.events), partitions,
        corpus.fullest_partition_bytes / 1048576, o.teams, static_cast<unsigned long long>(o.seed), corpus.seconds);
    std::printf("consumer overrides    %s\nproducer overrides    %s\n", properties_json(o.consumer_properties).c_str(),
                properties_json(o.producer_properties).c_str());

    std::vector<ModeRuns> results;
    results.reserve(selected.size());
    for (const Mode* mode : selected) results.push_back({mode->name, {}});
    // Alternating, so that a burst of other load on the machine hits every mode alike.
    for (int round = 1; round <= o.rounds; ++round) {
        for (size_t i = 0; i < selected.size(); ++i) {
            const ChildRun run{selected[i]->name, selected[i]->args, cluster.bootstraps(),
                               group_name(cluster.topic_prefix(), selected[i]->name, round), cluster.topic_prefix()};
            results[i].runs.push_back(derive(run_child(child_args(o, run)), o, corpus));
        }
    }

    std::printf("%-22s", "median of runs");
    for (const ModeRuns& m : results) std::printf("%20s", m.mode.c_str());
    std::printf("\n");
    print_row("events/s", "%.0f", results, [](const ModeResult& r) { return r.events_per_s; });
    print_row("input MB/s", "%.1f", results, [](const ModeResult& r) { return r.input_mb_per_s; });
    print_row("wall seconds", "%.3f", results, [](const ModeResult& r) { return r.raw.at("seconds"); });
    print_row("CPU seconds", "%.3f", results, [](const ModeResult& r) { return r.raw.at("cpu_seconds"); });
    print_row("CPU us/event", "%.2f", results, [](const ModeResult& r) { return r.cpu_us_per_event; });
    print_row("  worker threads us/event", "%.2f", results,
              [](const ModeResult& r) { return r.raw.at("main_thread_cpu_seconds") / r.raw.at("events") * 1e6; });
    print_row("  librdkafka us/event", "%.2f", results,
              [](const ModeResult& r) { return r.raw.at("librdkafka_cpu_seconds") / r.raw.at("events") * 1e6; });
    print_row("peak RSS MB", "%.1f", results, [](const ModeResult& r) { return r.raw.at("peak_rss_mb"); });
    print_row("outputs acknowledged", "%.0f", results, [](const ModeResult& r) { return r.raw.at("outputs"); });
    print_row("group join s", "%.2f", results, [](const ModeResult& r) { return r.raw.at("join_seconds"); });
    // An existing cluster's CPU is not this process's: it shows among the rest of the machine's load.
    if (cluster.is_mock()) {
        print_row("mock broker CPU s", "%.2f", results,
                  [](const ModeResult& r) { return r.raw.at("broker_cpu_seconds"); });
    }
    print_row(cluster.is_mock() ? "other load CPU s" : "brokers+other CPU s", "%.2f", results,
              [](const ModeResult& r) { return r.raw.at("other_cpu_seconds"); });
    print_row("fetch pauses", "%.0f", results, [](const ModeResult& r) { return figure_or_zero(r.raw, "pauses"); });
    // Empty polls while the broker held more input: the fetcher's back-off, not a lack of input.
    print_row("waiting on fetcher %", "%.1f", results, [](const ModeResult& r) {
        return figure_or_zero(r.raw, "fetch_stall_seconds") / r.raw.at("seconds") * 100;
    });
    for (const ModeRuns& m : results)
        std::printf("%-21s %s events/s\n", (m.mode + " runs").c_str(), runs_text(m, ", ").c_str());

    std::string json = std::string("{\"cluster\":\"") + (cluster.is_mock() ? "mock" : "brokers") +
                       "\",\"events\":" + std::to_string(o.events) + ",\"partitions\":" + std::to_string(partitions) +
                       ",\"teams\":" + std::to_string(o.teams) +
                       ",\"input_value_bytes\":" + std::to_string(corpus.value_bytes) +
                       ",\"consumer_properties\":" + properties_json(o.consumer_properties) +
                       ",\"producer_properties\":" + properties_json(o.producer_properties) +
                       ",\"rounds\":" + std::to_string(o.rounds);
    for (const ModeRuns& m : results) {
        json += ",\"" + m.mode + "\":" + mode_json(m.median(), cluster.is_mock());
        json.insert(json.size() - 1, ",\"runs_events_per_s\":[" + runs_text(m, ",") + "]");
    }
    // Each mode against the first, the passthrough, when both ran.
    if (selected.size() > 1 && selected.front()->runner == Runner::passthrough) {
        const double baseline = results.front().median().events_per_s;
        for (size_t i = 1; i < results.size(); ++i) {
            const double ratio = results[i].median().events_per_s / baseline;
            std::printf("%-21s %.1f %% of events/s (target >= %.0f %%: %s)\n",
                        (results[i].mode + "/passthrough").c_str(), ratio * 100, target_ratio * 100,
                        ratio >= target_ratio ? "met" : "NOT met");
            json += ",\"" + results[i].mode + "_ratio\":" + std::to_string(ratio);
        }
        json += ",\"target_ratio\":" + std::to_string(target_ratio);
    }
    std::printf("%s}\n", json.c_str());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const Options o = parse_args(argc, argv);
    try {
        // The figures are the output; a real broker's passing warnings (a coordinator still loading)
        // are not.
        if (o.run.empty()) {
            warden::log::set_min_level(warden::log::Level::error);
            return orchestrate(o);
        }
        warden::log::set_min_level(warden::log::Level::warn);  // the figures line is the output
        print_figures(mode_named(o.run).runner == Runner::warden ? run_warden(o) : run_passthrough(o));
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "kafka_bench: %s\n", e.what());
        return 1;
    }
}
