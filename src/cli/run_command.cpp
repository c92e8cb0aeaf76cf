// `warden run`: the long-running consumer-group worker.
#include "commands.hpp"
#include "run_args.hpp"
#include "team_store_args.hpp"
#include "thread_count.hpp"

#include <warden/key_usage.hpp>
#include <warden/log.hpp>
#include <warden/ops.hpp>
#include <warden/teams.hpp>
#include <warden/worker.hpp>
#include <warden/worker_threads.hpp>

#include <atomic>
#include <iostream>
#include <memory>
#include <optional>
#include <vector>

namespace warden::cli {
namespace {

int run_worker(RunArgs& args) {
    prepare_run(args);
    const OpenedQuota quota = open_quota_source(args.quota);
    args.worker.quota = quota.source.get();
    auto store = open_team_store(args.store);
    const unsigned threads = thread_count(args.threads);
    SharedTeamStore shared(*store, threads);
    const std::vector<std::unique_ptr<TeamCache>> caches = thread_team_caches(shared, args.store, threads);
    check_team_store(*caches.front());
    std::vector<TeamCache*> member_caches;
    member_caches.reserve(caches.size());
    for (const std::unique_ptr<TeamCache>& cache : caches) member_caches.push_back(cache.get());
    const std::unique_ptr<KeyUsageRecorder> key_usage = start_key_usage_recorder(args);
    args.worker.key_usage = key_usage.get();
    // Admin calls go to the audit trail, when there is one.
    std::shared_ptr<AdminAuditInbox> admin_audit;
    if (!args.admin_secrets.empty() && !args.worker.audit_topic.empty()) {
        admin_audit = std::make_shared<AdminAuditInbox>();
        args.worker.admin_audit = admin_audit;
    }
    WorkerThreads workers(args.worker, member_caches);
    if (threads > 1) log::info("group members in this process", {{"threads", std::to_string(threads)}});
    std::unique_ptr<OpsServer> ops;
    if (args.metrics_address != "off") {
        std::optional<OpsAdmin> admin;
        if (!args.admin_secrets.empty()) {
            // The caches of every member forget what an admin request names, as after a store notice.
            admin = OpsAdmin{
                {args.admin_secrets, std::chrono::seconds(args.admin_tolerance_s)}, &shared, nullptr, admin_audit};
        }
        ops = std::make_unique<OpsServer>(
            args.metrics_address,
            [&workers, &quota, &args, &key_usage] {
                WorkerStats stats = workers.stats();
                if (quota.redis) stats.quota = quota_stats(*quota.redis, args.quota);
                if (key_usage) stats.key_usage = key_usage->stats();
                return stats;
            },
            MetricsContext{args.worker.input_topic, args.worker.topics,
                           HealthPolicy{.quota_staleness = std::chrono::milliseconds(args.quota.max_staleness_ms)}},
            std::move(admin));
    }
    const StopOnSignal stop(workers);
    if (wait_for_quota(args.quota, quota)) workers.run();
    std::cout << workers.stats().outcomes.summary_json(args.worker.topics) << std::endl;
    return 0;
}

}  // namespace

Command add_run_command(CLI::App& root) {
    auto args = std::make_shared<RunArgs>();
    CLI::App* cmd =
        root.add_subcommand("run",
                            "Consume the capture topic as a consumer group and produce the enriched events "
                            "(at-least-once, or exactly-once with transactions). SIGTERM/SIGINT drain, commit and exit "
                            "0; prints a JSON summary last");
    add_run_options(*cmd, *args);
    return {cmd, [args] { return run_worker(*args); }, /*stops_on_signal=*/true};
}

}  // namespace warden::cli
