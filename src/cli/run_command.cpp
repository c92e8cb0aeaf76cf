// `warden run`: the long-running consumer-group worker.
#include "commands.hpp"
#include "kafka_client_args.hpp"
#include "team_store_args.hpp"
#include "thread_count.hpp"
#include "usage.hpp"

#include <warden/log.hpp>
#include <warden/ops.hpp>
#include <warden/teams.hpp>
#include <warden/worker.hpp>
#include <warden/worker_threads.hpp>

#include <atomic>
#include <iostream>
#include <memory>
#include <vector>

#include <unistd.h>

namespace warden::cli {
namespace {

struct RunArgs {
    WorkerOptions worker;
    std::string guarantee = "at-least-once";
    int64_t transaction_interval_ms = 100;
    TeamStoreArgs store;
    KafkaClientArgs kafka;
    int64_t shutdown_timeout_ms = 30'000;
    std::string metrics_address = "0.0.0.0:9464";
    unsigned threads = 0;  // 0: the cores available
};

// Without --transactional-id: the static member's identity, so a restarted instance fences its
// predecessor at once; else one unique to this process (a predecessor's open transaction then
// ends by the broker's transaction timeout, and the group generation still fences it).
std::string default_transactional_id(const WorkerOptions& w) {
    if (!w.group_instance_id.empty()) return "warden-" + w.group + "-" + w.group_instance_id;
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
    return "warden-" + w.group + "-" + (host[0] ? host : "host") + "-" + std::to_string(getpid());
}

int run_worker(RunArgs& args) {
    check_topic_roles(args.worker.input_topic, "--input-topic", args.worker.topics);
    args.worker.guarantee = processing_guarantee_named(args.guarantee);
    if (args.worker.guarantee == ProcessingGuarantee::exactly_once) {
        if (args.worker.transactional_id.empty()) args.worker.transactional_id = default_transactional_id(args.worker);
        args.worker.transaction_interval = std::chrono::milliseconds(args.transaction_interval_ms);
        log::info("exactly-once processing", {{"transactional_id", args.worker.transactional_id}});
    } else if (!args.worker.transactional_id.empty()) {
        throw UsageError("--transactional-id applies to --processing-guarantee exactly-once only");
    }
    // From here on the credentials among them are redacted wherever they would be printed.
    ClientProperties properties = client_properties(args.kafka);
    args.worker.brokers = args.kafka.brokers;
    args.worker.consumer_properties = std::move(properties.consumer);
    args.worker.producer_properties = std::move(properties.producer);
    check_kafka_clients(worker_consumer_properties(args.worker), worker_producer_properties(args.worker));
    args.worker.shutdown_timeout = std::chrono::milliseconds(args.shutdown_timeout_ms);

    auto store = open_team_store(args.store);
    const unsigned threads = thread_count(args.threads);
    SharedTeamStore shared(*store, threads);
    const std::vector<std::unique_ptr<TeamCache>> caches = thread_team_caches(shared, args.store, threads);
    check_team_store(*caches.front());
    std::vector<TeamCache*> member_caches;
    member_caches.reserve(caches.size());
    for (const std::unique_ptr<TeamCache>& cache : caches) member_caches.push_back(cache.get());
    WorkerThreads workers(args.worker, member_caches);
    if (threads > 1) log::info("group members in this process", {{"threads", std::to_string(threads)}});
    std::unique_ptr<OpsServer> ops;
    if (args.metrics_address != "off") {
        ops = std::make_unique<OpsServer>(
            args.metrics_address, [&workers] { return workers.stats(); },
            MetricsContext{args.worker.input_topic, args.worker.topics, {}});
    }
    const StopOnSignal stop(workers);
    workers.run();
    std::cout << workers.stats().outcomes.summary_json(args.worker.topics) << std::endl;
    return 0;
}

}  // namespace

Command add_run_command(CLI::App& root) {
    auto args = std::make_shared<RunArgs>();
    WorkerOptions& w = args->worker;
    CLI::App* cmd =
        root.add_subcommand("run",
                            "Consume the capture topic as a consumer group and produce the enriched events "
                            "(at-least-once, or exactly-once with transactions). SIGTERM/SIGINT drain, commit and exit "
                            "0; prints a JSON summary last");
    add_config_option(*cmd);
    add_kafka_client_options(*cmd, args->kafka);
    cmd->add_option("--group", w.group, "Consumer group id")
        ->envname("WARDEN_GROUP")
        ->capture_default_str()
        ->check(not_empty("a consumer group id"));
    cmd->add_option(
           "--group-instance-id", w.group_instance_id,
           "Static membership id (group.instance.id): a restart within the session timeout causes no rebalance "
           "(with --threads N above 1, member I of the process has ID-I)")
        ->envname("WARDEN_GROUP_INSTANCE_ID");
    add_processing_guarantee_options(*cmd, args->guarantee, args->transaction_interval_ms, /*envnames=*/true);
    cmd->add_option("--transactional-id", w.transactional_id,
                    "Exactly-once: this instance's transactional.id, stable across restarts and unique in the group "
                    "(default: from --group and --group-instance-id, else host and process id; with --threads N above "
                    "1, member I of the process has ID-I)")
        ->envname("WARDEN_TRANSACTIONAL_ID");
    add_team_store_options(*cmd, args->store);
    cmd->add_option("--input-topic", w.input_topic, "Topic the capture tier writes to")
        ->envname("WARDEN_INPUT_TOPIC")
        ->capture_default_str()
        ->check(topic_name());
    add_topic_options(*cmd, w.topics);
    cmd->add_option("--batch-size", w.batch_size, "Messages per processing batch (one team lookup each)")
        ->envname("WARDEN_BATCH_SIZE")
        ->capture_default_str()
        ->check(whole_number<size_t>(1));
    add_threads_option(*cmd, args->threads,
                       "Members of the consumer group in this process, one per thread, each with its own "
                       "consumer, producer and partitions",
                       "WARDEN_THREADS");
    cmd->add_option("--max-in-flight", w.max_in_flight,
                    "Unacknowledged outputs at which fetching pauses (resumes at half), shared among the threads")
        ->envname("WARDEN_MAX_IN_FLIGHT")
        ->capture_default_str()
        ->check(whole_number<size_t>(1));
    cmd->add_option("--shutdown-timeout-ms", args->shutdown_timeout_ms,
                    "Longest drain on SIGTERM/SIGINT before committing what was acknowledged and exiting")
        ->envname("WARDEN_SHUTDOWN_TIMEOUT_MS")
        ->capture_default_str()
        ->check(whole_number<int64_t>(0));
    add_max_message_bytes_option(*cmd, w.limits, "WARDEN_MAX_MESSAGE_BYTES");
    cmd->add_option("--metrics-address", args->metrics_address,
                    "host:port serving /metrics, /healthz and /readyz ('off' disables; port 0 picks one)")
        ->envname("WARDEN_METRICS_ADDRESS")
        ->capture_default_str()
        ->check(listen_address());
    return {cmd, [args] { return run_worker(*args); }, /*stops_on_signal=*/true};
}

}  // namespace warden::cli
