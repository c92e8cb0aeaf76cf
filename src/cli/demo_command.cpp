// `warden demo`: the whole pipeline on this machine with no external services. An in-process mock
// Kafka cluster, generated teams, a generated capture stream (public, secret, backup, forged,
// malformed, unknown-token, $exception and heatmap events) and the real worker, with a live
// summary once a second.
#include "commands.hpp"

#include <warden/capture_producer.hpp>
#include <warden/files.hpp>
#include <warden/loadgen.hpp>
#include <warden/log.hpp>
#include <warden/mock_cluster.hpp>
#include <warden/ops.hpp>
#include <warden/teams.hpp>
#include <warden/worker.hpp>

#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <memory>
#include <thread>

namespace warden::cli {
namespace {

struct DemoArgs {
    uint64_t events = 200'000;
    uint64_t rate = 20'000;  // events per second; 0 = as fast as possible
    int partitions = 16;
    int teams = 20;
    uint64_t seed = 1;
    std::string metrics_address = "127.0.0.1:0";
    int64_t cache_ttl_ms = 10'000;  // short, so the store panels of the dashboard show traffic
    TopicNames topics;
};

// Writes the generated stream to the input topic at the requested rate.
class CaptureTraffic {
public:
    CaptureTraffic(const std::string& brokers, const DemoArgs& args)
        : args_(args), producer_(brokers, std::string(default_input_topic)) {
        thread_ = std::thread([this] {
            try {
                produce_all();
            } catch (const std::exception& e) {  // the demo goes on with what was sent
                log::error("the demo's capture traffic stopped", {{"error", e.what()}});
            }
        });
    }
    ~CaptureTraffic() {
        stop_.store(true);
        producer_.request_stop();
        thread_.join();
    }
    CaptureTraffic(const CaptureTraffic&) = delete;
    CaptureTraffic& operator=(const CaptureTraffic&) = delete;
    uint64_t sent() const { return sent_.load(); }

private:
    void produce_all() {
        loadgen::EventGenerator generator(args_.seed, args_.teams);
        const auto start = std::chrono::steady_clock::now();
        for (uint64_t n = 0; n < args_.events && !stop_.load(); ++n) {
            if (args_.rate > 0) {
                const auto due = start + std::chrono::microseconds(n * 1'000'000 / args_.rate);
                if (due > std::chrono::steady_clock::now()) std::this_thread::sleep_until(due);
            }
            const loadgen::GeneratedMessage m = generator.next(n);
            if (!producer_.send(m.key, m.value, m.headers)) return;
            sent_.fetch_add(1);
        }
        producer_.flush(std::chrono::seconds(10));
    }

    const DemoArgs& args_;
    CaptureProducer producer_;
    std::atomic<bool> stop_{false};
    std::atomic<uint64_t> sent_{0};
    std::thread thread_;
};

uint64_t sum(const uint64_t* values, size_t count) {
    uint64_t total = 0;
    for (size_t i = 0; i < count; ++i) total += values[i];
    return total;
}

void print_progress(double seconds, uint64_t sent, const WorkerStats& s, double rate) {
    const OutcomeCounters& o = s.outcomes;
    std::fprintf(stderr,
                 "%6.1fs  sent %-8" PRIu64 " consumed %-8" PRIu64 " lag %-7" PRIu64 " %7.0f ev/s  out %-8" PRIu64
                 " verified %-7" PRIu64 " stripped %-6" PRIu64 " dropped %-6" PRIu64 " dlq %-6" PRIu64
                 " in-flight %-6zu partitions %zu\n",
                 seconds, sent, o.consumed, sent > o.consumed ? sent - o.consumed : 0, rate,
                 sum(o.produced, destination_count - 1), o.verified, o.stripped, sum(o.dropped, drop_cause_count),
                 sum(o.dead_letters, dead_letter_reason_count), s.in_flight, s.assigned_partitions);
}

int run_demo(const DemoArgs& args) {
    check_topic_roles(std::string(default_input_topic),
                      "the demo's input topic (" + std::string(default_input_topic) + ")", args.topics);
    MockCluster cluster(1);
    cluster.create_topic(std::string(default_input_topic), args.partitions);
    for (const std::string* t :
         {&args.topics.analytics, &args.topics.error_tracking, &args.topics.heatmaps, &args.topics.dead_letter}) {
        cluster.create_topic(*t, args.partitions);
    }
    cluster.create_topic(std::string(default_audit_topic), 1);
    auto store = FileTeamStore::from_json(loadgen::teams_json(args.teams), "demo teams");
    TeamCacheOptions cache_options;
    cache_options.ttl = std::chrono::milliseconds(args.cache_ttl_ms);
    TeamCache cache(*store, cache_options);

    WorkerOptions options;
    options.brokers = cluster.bootstraps();
    options.group = "warden-demo";
    options.topics = args.topics;
    // The mock cluster answers an empty fetch only after fetch.wait.max.ms; keep latency low.
    options.consumer_properties = {{"fetch.wait.max.ms", "10"}, {"session.timeout.ms", "6000"}};
    Worker worker(options, cache);
    std::unique_ptr<OpsServer> ops;
    if (args.metrics_address != "off") {
        ops = std::make_unique<OpsServer>(
            args.metrics_address, [&worker] { return worker.stats(); },
            MetricsContext{options.input_topic, options.topics, {}});
    }

    std::fprintf(stderr,
                 "warden demo: mock Kafka at %s, %d teams, %" PRIu64
                 " events at %s events/s into %d partitions "
                 "(Ctrl-C stops early)\n",
                 cluster.bootstraps().c_str(), args.teams, args.events,
                 args.rate ? std::to_string(args.rate).c_str() : "max", args.partitions);
    if (ops) std::fprintf(stderr, "metrics: http://127.0.0.1:%d/metrics (also /healthz, /readyz)\n", ops->port());

    std::exception_ptr worker_failure;
    std::atomic<bool> worker_failed{false};
    std::thread worker_thread([&] {
        try {
            worker.run();
        } catch (...) {
            worker_failure = std::current_exception();
            worker_failed.store(true);
        }
    });
    const auto stopping = [&] { return stop_requested() || worker_failed.load(); };
    // Traffic starts once the worker owns the partitions: the mock keeps only 5 MiB per partition,
    // so a backlog built up during the group join could be dropped before it is read.
    while (worker.stats().assigned_partitions == 0 && !stopping()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    {
        CaptureTraffic traffic(cluster.bootstraps(), args);
        const auto start = std::chrono::steady_clock::now();
        auto last_print = start;
        uint64_t last_consumed = 0;
        for (;;) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            const WorkerStats s = worker.stats();
            const bool done = s.outcomes.consumed >= args.events && s.in_flight == 0;
            const auto now = std::chrono::steady_clock::now();
            if (now - last_print >= std::chrono::seconds(1) || done || stopping()) {
                const double interval = std::chrono::duration<double>(now - last_print).count();
                print_progress(std::chrono::duration<double>(now - start).count(), traffic.sent(), s,
                               static_cast<double>(s.outcomes.consumed - last_consumed) / interval);
                last_print = now;
                last_consumed = s.outcomes.consumed;
            }
            if (done || stopping()) break;
        }
    }
    worker.request_stop();
    worker_thread.join();
    if (worker_failure) std::rethrow_exception(worker_failure);
    std::printf("%s\n", worker.stats().outcomes.summary_json(args.topics).c_str());
    return 0;
}

}  // namespace

Command add_demo_command(CLI::App& root) {
    auto args = std::make_shared<DemoArgs>();
    CLI::App* cmd =
        root.add_subcommand("demo",
                            "The whole pipeline on this machine: an in-process mock Kafka cluster, generated teams and "
                            "capture traffic, and the real worker, with a live summary; prints the JSON summary last");
    add_config_option(*cmd);
    cmd->add_option("--events", args->events, "Events to generate; the demo stops once all are processed")
        ->capture_default_str()
        ->check(whole_number<uint64_t>(1));
    cmd->add_option("--rate", args->rate, "Generated events per second (0: as fast as possible)")
        ->capture_default_str()
        ->check(whole_number<uint64_t>(0));
    cmd->add_option("--partitions", args->partitions, "Partitions of each topic")
        ->capture_default_str()
        ->check(whole_number_range(1, 256));
    cmd->add_option("--teams", args->teams, "Generated teams")
        ->capture_default_str()
        ->check(whole_number_range(1, 100000));
    cmd->add_option("--seed", args->seed, "Seed of the generated stream")
        ->capture_default_str()
        ->check(whole_number<uint64_t>(0));
    cmd->add_option("--cache-ttl-ms", args->cache_ttl_ms, "Team cache time-to-live")
        ->capture_default_str()
        ->check(whole_number<int64_t>(1));
    cmd->add_option("--metrics-address", args->metrics_address,
                    "host:port serving /metrics, /healthz and /readyz ('off' disables; port 0 picks one)")
        ->capture_default_str()
        ->check(listen_address());
    add_topic_options(*cmd, args->topics);
    // The live summary is the demo's output: warnings and errors only, unless asked.
    return {cmd, [args] { return run_demo(*args); }, /*stops_on_signal=*/true, /*default_log_level=*/"warn"};
}

}  // namespace warden::cli
