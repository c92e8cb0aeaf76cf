// `warden process`: the pipeline over files, for debugging, tests and offline backfills.
#include "commands.hpp"
#include "team_store_args.hpp"

#include <warden/files.hpp>
#include <warden/pipeline.hpp>
#include <warden/teams.hpp>

#include <fstream>
#include <iostream>
#include <memory>

namespace warden::cli {

namespace {

struct ProcessArgs {
    TeamStoreArgs store;
    std::string input;
    std::string output_dir;
    TopicNames topics;
    CoreLimits limits;
};

int run_process(const ProcessArgs& args) {
    check_topic_roles("", "", args.topics);
    auto store = open_team_store(args.store);
    TeamCache cache(*store, team_cache_options(args.store));
    wait_for_team_store(cache, args.store);
    BatchProcessor processor(cache, args.topics, args.limits);
    ProcessFilesOptions options{args.output_dir};
    options.store_wait_timeout = std::chrono::milliseconds(args.store.store_wait_timeout_ms);
    OutcomeCounters counters;
    if (args.input == "-") {
        counters = process_stream(std::cin, processor, options);
    } else {
        std::ifstream in(args.input, std::ios::binary);
        if (!in) throw std::runtime_error("cannot open input " + args.input);
        counters = process_stream(in, processor, options);
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
    add_topic_options(*cmd, args->topics);
    return {cmd, [args] { return run_process(*args); }};
}

}  // namespace warden::cli
