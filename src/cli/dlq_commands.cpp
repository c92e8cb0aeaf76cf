// `warden dlq`, and its `inspect`: what the dead-letter topic holds, by reason, step and source
// partition. (`dlq redrive` is a replay: replay_command.cpp.)
#include "commands.hpp"
#include "kafka_client_args.hpp"
#include "replay_args.hpp"
#include "usage.hpp"

#include <warden/dead_letters.hpp>
#include <warden/log.hpp>

#include <atomic>
#include <iostream>
#include <memory>

namespace warden::cli {
namespace {

constexpr int exit_interrupted = 3;

// What a stop signal sets; the reading checks it between messages.
struct StopFlag {
    std::atomic<bool> stop{false};
    void request_stop() { stop.store(true, std::memory_order_relaxed); }
};

struct InspectArgs {
    DeadLetterInspectOptions inspect;
    KafkaClientArgs kafka;
    std::string from = "earliest";
    std::string to = "latest";
    int64_t broker_wait_ms = 60'000;
};

int inspect(InspectArgs& args) {
    args.inspect.from = parse_offset_spec(args.from);
    args.inspect.to = parse_offset_spec(args.to);
    check_replay_range(args.inspect.from, args.inspect.to, args.from, args.to);
    // From here on the credentials among them are redacted wherever they would be printed.
    ClientProperties properties = client_properties(args.kafka);
    args.inspect.brokers = args.kafka.brokers;
    args.inspect.consumer_properties = std::move(properties.consumer);
    args.inspect.broker_wait = std::chrono::milliseconds(args.broker_wait_ms);
    StopFlag flag;
    const StopOnSignal on_signal(flag);
    const DeadLetterInspection found = inspect_dead_letters(args.inspect, flag.stop);
    std::cout << found.to_json() << std::endl;
    return found.complete ? exit_ok : exit_interrupted;
}

}  // namespace

CLI::App& add_dlq_group(CLI::App& root) {
    CLI::App* dlq = root.add_subcommand("dlq",
                                        "The dead-letter topic: warden dlq inspect (what it holds), warden dlq redrive "
                                        "(send it through again)");
    dlq->require_subcommand(1);
    return *dlq;
}

Command add_dlq_inspect_command(CLI::App& dlq) {
    auto args = std::make_shared<InspectArgs>();
    CLI::App* cmd = dlq.add_subcommand(
        "inspect",
        "Count the dead letters of an offset range by reason, step and source partition, with a few redacted "
        "samples of each reason (secret and personal API keys taken out, key and value cut); prints one JSON "
        "document. Reads with direct assignment: no group, nothing committed. Exit 3 when interrupted");
    add_config_option(*cmd);
    add_kafka_client_options(*cmd, args->kafka);
    cmd->add_option("--dlq-topic", args->inspect.topic, "Dead-letter topic")
        ->envname("WARDEN_DLQ_TOPIC")
        ->capture_default_str()
        ->check(topic_name());
    add_range_options(*cmd, args->from, args->to);
    cmd->add_option("--samples", args->inspect.samples_per_reason, "Samples shown of each reason")
        ->capture_default_str()
        ->check(whole_number<size_t>(0));
    cmd->add_option("--sample-bytes", args->inspect.sample_bytes, "Bytes shown of each sample's key, value and error")
        ->capture_default_str()
        ->check(whole_number<size_t>(1));
    add_broker_wait_option(*cmd, args->broker_wait_ms);
    Command command{cmd, [args] { return inspect(*args); }, /*stops_on_signal=*/true};
    command.group = "dlq";
    return command;
}

}  // namespace warden::cli
