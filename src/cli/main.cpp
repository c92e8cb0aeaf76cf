// warden: command-line entry point.
#include <warden/files.hpp>
#include <warden/pipeline.hpp>
#include <warden/teams.hpp>

#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>

namespace {

struct ProcessArgs {
    std::string teams;
    std::string input;
    std::string output_dir;
};

void add_topic_options(CLI::App& cmd, warden::TopicNames& topics) {
    cmd.add_option("--analytics-topic", topics.analytics, "Output topic of ordinary events")
        ->envname("WARDEN_ANALYTICS_TOPIC")->capture_default_str();
    cmd.add_option("--error-tracking-topic", topics.error_tracking, "Output topic of $exception events")
        ->envname("WARDEN_ERROR_TRACKING_TOPIC")->capture_default_str();
    cmd.add_option("--heatmaps-topic", topics.heatmaps, "Output topic of $$heatmap events")
        ->envname("WARDEN_HEATMAPS_TOPIC")->capture_default_str();
    cmd.add_option("--dlq-topic", topics.dead_letter, "Dead-letter topic")
        ->envname("WARDEN_DLQ_TOPIC")->capture_default_str();
}

int run_process(const ProcessArgs& args, const warden::TopicNames& topics, const warden::CoreLimits& limits) {
    auto store = warden::FileTeamStore::load(args.teams);
    warden::TeamCache cache(*store);
    warden::BatchProcessor processor(cache, topics, limits);
    warden::ProcessFilesOptions options{args.output_dir};
    warden::OutcomeCounters counters;
    if (args.input == "-") {
        counters = warden::process_stream(std::cin, processor, options);
    } else {
        std::ifstream in(args.input, std::ios::binary);
        if (!in) throw std::runtime_error("cannot open input " + args.input);
        counters = warden::process_stream(in, processor, options);
    }
    std::cout << counters.summary_json(topics) << std::endl;
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"warden: resolves, verifies and routes product-analytics events from Kafka"};
    app.require_subcommand(1);

    warden::TopicNames topics;
    warden::CoreLimits limits;
    ProcessArgs process_args;
    CLI::App* process = app.add_subcommand(
        "process", "Run the pipeline over a file of messages (kcat -J envelopes or bare values), "
                   "writing one JSONL file per output topic; prints a JSON summary last");
    process->add_option("--teams", process_args.teams, "Teams file (JSON array of team objects)")
        ->required()->envname("WARDEN_TEAMS");
    process->add_option("--input", process_args.input, "Input file, one message per line ('-' for stdin)")
        ->required();
    process->add_option("--output-dir", process_args.output_dir, "Directory receiving <topic>.jsonl files")
        ->required();
    process->add_option("--max-message-bytes", limits.max_message_bytes, "Largest value accepted or produced")
        ->capture_default_str()->check(CLI::PositiveNumber);
    add_topic_options(*process, topics);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int code = app.exit(e);
        return code == 0 ? 0 : 2;
    }
    try {
        if (*process) return run_process(process_args, topics, limits);
    } catch (const std::exception& e) {
        std::cerr << "warden: " << e.what() << std::endl;
        return 1;
    }
    return 2;
}
