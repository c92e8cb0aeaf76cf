// `warden replay`: a bounded, resumable, rate-limited backfill of a topic range.
#include "commands.hpp"
#include "kafka_client_args.hpp"
#include "replay_args.hpp"
#include "replay_progress.hpp"
#include "team_store_args.hpp"
#include "usage.hpp"

#include <warden/log.hpp>
#include <warden/replay.hpp>

#include <atomic>
#include <cstdio>
#include <memory>
#include <sstream>
#include <unistd.h>

namespace warden::cli {
namespace {

// Exit status of a replay that was stopped before its end; a rerun with the checkpoint resumes it.
constexpr int interrupted_exit = 3;

struct ReplayArgs {
    ReplayOptions replay;
    TeamStoreArgs store;
    std::string from = "earliest";
    std::string to = "latest";
    std::string partitions;
    KafkaClientArgs kafka;
    std::string progress = "auto";
    int64_t broker_wait_ms = 60'000;
    std::string guarantee = "at-least-once";
    int64_t transaction_interval_ms = 1000;
    uint32_t max_attempts = 3;  // a redrive's
    bool redrive = false;       // `warden dlq redrive`: the dead-letter topic goes through again
};

// An exactly-once replay commits its progress with its outputs and resumes from it: it produces,
// and a checkpoint fixes its ranges and identity.
void check_guarantee(const ReplayOptions& replay) {
    if (replay.guarantee != ProcessingGuarantee::exactly_once) return;
    if (replay.dry_run) {
        throw UsageError("--dry-run produces nothing, so it has no --processing-guarantee exactly-once");
    }
    if (replay.checkpoint_path.empty()) {
        throw UsageError(
            "--processing-guarantee exactly-once needs --checkpoint: an interrupted exactly-once replay "
            "resumes from the progress it committed, and the checkpoint fixes its ranges and transactional id");
    }
}

int run_replay(ReplayArgs& args) {
    args.replay.from = parse_offset_spec(args.from);
    args.replay.to = parse_offset_spec(args.to);
    check_replay_range(args.replay.from, args.replay.to, args.from, args.to);
    if (!args.partitions.empty()) args.replay.partitions = parse_partition_list(args.partitions);
    if (args.redrive) {
        // Read from the dead-letter topic, and what fails again goes back to it.
        args.replay.topic = args.replay.topics.dead_letter;
        args.replay.redrive_max_attempts = args.max_attempts;
    } else {
        check_topic_roles(args.replay.topic, "--topic", args.replay.topics);
    }
    args.replay.guarantee = processing_guarantee_named(args.guarantee);
    args.replay.transaction_interval = std::chrono::milliseconds(args.transaction_interval_ms);
    check_guarantee(args.replay);
    check_checkpoint(args.replay);
    if (args.replay.guarantee == ProcessingGuarantee::exactly_once) {
        args.replay.transactional_id = replay_transactional_id(args.replay);
        log::info("exactly-once replay", {{"transactional_id", args.replay.transactional_id}});
    }
    // Before anything can print: from here on the credentials among them are redacted.
    ClientProperties properties = client_properties(args.kafka);
    args.replay.brokers = args.kafka.brokers;
    args.replay.consumer_properties = std::move(properties.consumer);
    args.replay.producer_properties = std::move(properties.producer);
    args.replay.broker_wait = std::chrono::milliseconds(args.broker_wait_ms);
    check_kafka_clients(replay_consumer_properties(args.replay), replay_producer_properties(args.replay));

    auto store = open_team_store(args.store);
    TeamCache cache(*store, team_cache_options(args.store));
    if (!wait_for_team_store(cache, args.store)) {
        log::warn("replay stopped before it started");
        return interrupted_exit;
    }
    args.replay.store_wait_timeout = std::chrono::milliseconds(args.store.store_wait_timeout_ms);
    Replayer replayer(args.replay, cache);
    const StopOnSignal stop(replayer);

    const bool bar = args.progress == "bar" || (args.progress == "auto" && isatty(STDERR_FILENO));
    TerminalProgress terminal;
    auto show = [&](const ReplayProgress& p) {
        if (args.progress == "none") return;
        std::fputs((bar ? terminal.render(p) : progress_json(p)).c_str(), stderr);
    };
    const ReplayProgress result = replayer.run(show);
    show(result);
    std::string summary = result.outcomes.summary_json(args.replay.topics);
    if (args.redrive) {
        // The dead letters kept back, before the outcomes of those sent through.
        summary.insert(1, "\"kept_back\":{\"attempts_used_up\":" + std::to_string(result.redrive_exhausted) +
                              ",\"truncated\":" + std::to_string(result.redrive_truncated) +
                              ",\"outputs\":" + std::to_string(result.redrive_outputs) + "},");
    }
    std::printf("%s\n", summary.c_str());
    if (!result.complete) {
        log::warn("replay interrupted before its end",
                  {{"checkpoint",
                    args.replay.checkpoint_path.empty() ? "none: a rerun starts over" : args.replay.checkpoint_path}});
        return interrupted_exit;
    }
    return 0;
}

// The options of replay, and of redrive, which reads the dead-letter topic (--dlq-topic) instead
// of --topic and takes --max-attempts.
Command add_replay_options(CLI::App* cmd, const std::shared_ptr<ReplayArgs>& args) {
    ReplayOptions& r = args->replay;
    add_config_option(*cmd);
    add_kafka_client_options(*cmd, args->kafka);
    if (args->redrive) {
        cmd->add_option("--max-attempts", args->max_attempts,
                        "Dead-letterings after which a dead letter is kept back (counted, not sent through); one "
                        "without dlq_attempts has had one")
            ->capture_default_str()
            ->check(whole_number<uint32_t>(1));
    } else {
        cmd->add_option("--topic", r.topic, "Topic to replay")->capture_default_str()->check(topic_name());
    }
    add_range_options(*cmd, args->from, args->to);
    cmd->add_option("--partitions", args->partitions, "Comma-separated partitions (default: all)")
        ->check(partition_list());
    add_team_store_options(*cmd, args->store);
    add_store_wait_option(*cmd, args->store);
    add_topic_options(*cmd, r.topics);
    cmd->add_option("--max-rate", r.max_rate, "Events per second at most (0: unlimited)")
        ->capture_default_str()
        ->check(number_at_least(0));
    cmd->add_flag("--dry-run", r.dry_run, "Compute outcomes and the summary without producing anything");
    cmd->add_option("--checkpoint", r.checkpoint_path,
                    "File recording each partition's range and acknowledged progress; a rerun with it resumes");
    add_processing_guarantee_options(*cmd, args->guarantee, args->transaction_interval_ms, /*envnames=*/false);
    cmd->add_option("--progress", args->progress, "auto (a bar on a terminal, else JSON lines), bar, json or none")
        ->capture_default_str()
        ->check(one_of({"auto", "bar", "json", "none"}));
    cmd->add_option("--batch-size", r.batch_size, "Messages per processing batch")
        ->capture_default_str()
        ->check(whole_number<size_t>(1));
    add_max_message_bytes_option(*cmd, r.limits);
    add_broker_wait_option(*cmd, args->broker_wait_ms);
    return {cmd, [args] { return run_replay(*args); }, /*stops_on_signal=*/true};
}

}  // namespace

Command add_replay_command(CLI::App& root) {
    return add_replay_options(
        root.add_subcommand(
            "replay",
            "Reprocess a fixed range of a topic (direct assignment, no consumer group) and produce the outputs "
            "again with a `replayed: true` header. Prints a JSON summary last; exit 3 when interrupted "
            "(rerun with the same --checkpoint to resume)"),
        std::make_shared<ReplayArgs>());
}

Command add_dlq_redrive_command(CLI::App& dlq) {
    auto args = std::make_shared<ReplayArgs>();
    args->redrive = true;
    Command command = add_replay_options(
        dlq.add_subcommand(
            "redrive",
            "Send a range of the dead-letter topic through the pipeline again, as `replay` does (`replayed: true` on "
            "every output), each message with its original key and headers (the dlq_* ones dropped); what fails "
            "again returns to the dead-letter topic with dlq_attempts one higher. A dead letter dead-lettered "
            "--max-attempts times, cut to fit when it was, or holding an output the brokers refused (not an input) "
            "is kept back and counted. Prints a JSON summary last; "
            "exit 3 when interrupted (rerun with the same --checkpoint to resume)"),
        args);
    command.group = "dlq";
    return command;
}

}  // namespace warden::cli
