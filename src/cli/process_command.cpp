// `warden process`: the pipeline over files, for debugging, tests and offline backfills.
#include "audit_args.hpp"
#include "commands.hpp"
#include "quota_args.hpp"
#include "team_store_args.hpp"
#include "thread_count.hpp"

#include <warden/files.hpp>
#include <warden/pipeline.hpp>
#include <warden/quota.hpp>
#include <warden/teams.hpp>

#include <fstream>
#include <iostream>
#include <memory>
#include <vector>

namespace warden::cli {

namespace {

struct ProcessArgs {
    TeamStoreArgs store;
    std::string input;
    std::string output_dir;
    TopicNames topics;
    CoreLimits limits;
    unsigned threads = 0;    // 0: the cores available
    std::string quota_file;  // empty: no quota stage
    AuditArgs audit;
};

int run_process(const ProcessArgs& args) {
    check_topic_roles("", "", args.topics);
    const unsigned threads = thread_count(args.threads);
    const FixedQuotaSource quota(args.quota_file.empty() ? QuotaLimits() : QuotaLimits::read_file(args.quota_file));
    const std::string audit_topic_name = audit_topic(args.audit, "", args.topics);
    const FingerprintKey key = audit_key(args.audit);
    // One trail per lane, merged at the end: the whole input is one interval.
    std::vector<std::unique_ptr<AuditTrail>> trails;
    auto store = open_team_store(args.store);
    SharedTeamStore shared(*store, threads);
    const std::vector<std::unique_ptr<TeamCache>> caches = thread_team_caches(shared, args.store, threads);
    std::vector<std::unique_ptr<BatchProcessor>> processors;
    std::vector<BatchProcessor*> lanes;
    for (const std::unique_ptr<TeamCache>& cache : caches) {
        processors.push_back(std::make_unique<BatchProcessor>(*cache, args.topics, args.limits));
        if (!args.quota_file.empty()) processors.back()->set_quota(&quota);
        if (!audit_topic_name.empty()) {
            trails.push_back(std::make_unique<AuditTrail>(key));
            processors.back()->set_audit(trails.back().get());
        }
        lanes.push_back(processors.back().get());
    }
    wait_for_team_store(*caches.front(), args.store);
    ProcessFilesOptions options{args.output_dir};
    options.audit_topic = audit_topic_name;
    options.store_wait_timeout = std::chrono::milliseconds(args.store.store_wait_timeout_ms);
    OutcomeCounters counters;
    if (args.input == "-") {
        counters = process_stream(std::cin, lanes, options);
    } else {
        std::ifstream in(args.input, std::ios::binary);
        if (!in) throw std::runtime_error("cannot open input " + args.input);
        counters = process_stream(in, lanes, options);
    }
    std::cout << counters.summary_json(args.topics) << std::endl;
    return 0;
}

}  // namespace

Command add_process_command(CLI::App& root) {
    auto args = std::make_shared<ProcessArgs>();
    CLI::App* cmd = root.add_subcommand("process",
                                        "Run the pipeline over a file of messages (kcat -J envelopes or bare values), "
                                        "writing one JSONL file per output topic; prints a JSON summary last");
    add_config_option(*cmd);
    add_team_store_options(*cmd, args->store);
    add_store_wait_option(*cmd, args->store);
    cmd->add_option("--input", args->input, "Input file, one message per line ('-' for stdin)")
        ->required()
        ->check(not_empty("a file, or - for standard input"));
    cmd->add_option("--output-dir", args->output_dir, "Directory receiving <topic>.jsonl files")
        ->required()
        ->check(not_empty("a directory"));
    add_quota_file_option(*cmd, args->quota_file);
    add_max_message_bytes_option(*cmd, args->limits);
    add_threads_option(*cmd, args->threads,
                       "Threads processing the input; the outputs are the same, in the same order, whatever the count");
    add_topic_options(*cmd, args->topics);
    add_audit_options(*cmd, args->audit, /*interval=*/false);
    return {cmd, [args] { return run_process(*args); }};
}

}  // namespace warden::cli
