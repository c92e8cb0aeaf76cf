// `warden process`: the pipeline over files, for debugging, tests and offline backfills.
#include "commands.hpp"
#include "team_store_args.hpp"

#include <warden/files.hpp>
#include <warden/pipeline.hpp>
#include <warden/teams.hpp>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <memory>
#include <thread>
#include <vector>

namespace warden::cli {

namespace {

constexpr unsigned most_threads = 256;

struct ProcessArgs {
    TeamStoreArgs store;
    std::string input;
    std::string output_dir;
    TopicNames topics;
    CoreLimits limits;
    unsigned threads = 0;  // 0: the cores available
};

unsigned cores_available() { return std::clamp(std::thread::hardware_concurrency(), 1U, most_threads); }

int run_process(const ProcessArgs& args) {
    check_topic_roles("", "", args.topics);
    const unsigned threads = args.threads == 0 ? cores_available() : args.threads;
    auto store = open_team_store(args.store);
    SharedTeamStore shared(*store, threads);
    // Each thread has a cache of its own; together they keep to the store query budget.
    TeamCacheOptions cache_options = team_cache_options(args.store);
    cache_options.max_store_fetches_per_second /= threads;
    std::vector<std::unique_ptr<TeamCache>> caches;
    std::vector<std::unique_ptr<BatchProcessor>> processors;
    std::vector<BatchProcessor*> lanes;
    for (unsigned i = 0; i < threads; ++i) {
        caches.push_back(std::make_unique<TeamCache>(shared.view(i), cache_options));
        processors.push_back(std::make_unique<BatchProcessor>(*caches.back(), args.topics, args.limits));
        lanes.push_back(processors.back().get());
    }
    wait_for_team_store(*caches.front(), args.store);
    ProcessFilesOptions options{args.output_dir};
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
    add_max_message_bytes_option(*cmd, args->limits);
    cmd->add_option("--threads", args->threads,
                    "Threads processing the input, 0 for the cores available (" + std::to_string(cores_available()) +
                        " here); the outputs are the same, in the same order, whatever the count")
        ->capture_default_str()
        ->check(whole_number_range(0, most_threads));
    add_topic_options(*cmd, args->topics);
    return {cmd, [args] { return run_process(*args); }};
}

}  // namespace warden::cli
