// `warden loadgen` and `warden produce`: capture traffic into a real topic, generated (the demo's
// stream) or read from a file of kcat -J envelopes, so a deployment can be tried and the shipped
// samples replayed against real brokers.
#include "commands.hpp"
#include "kafka_client_args.hpp"
#include "usage.hpp"

#include <warden/capture_producer.hpp>
#include <warden/files.hpp>
#include <warden/json_text.hpp>
#include <warden/loadgen.hpp>
#include <warden/log.hpp>
#include <warden/rate_limiter.hpp>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <thread>

namespace warden::cli {
namespace {

// Exit status when a stop signal ended the sending before the last message (as `replay`).
constexpr int interrupted_exit = 3;
// How long a message may take to be acknowledged before it counts as failed: a command's user
// waits for the end, so this is shorter than librdkafka's five minutes.
constexpr int64_t default_message_timeout_ms = 30'000;

struct TrafficArgs {
    KafkaClientArgs kafka;
    std::string topic = std::string(default_input_topic);
    uint64_t rate = 0;  // messages per second; 0 = as fast as the brokers take them
    int64_t broker_wait_ms = 60'000;
};

// What a signal stops: the wait for the brokers, and a send waiting for room.
struct TrafficStop {
    std::atomic<bool> requested{false};
    std::atomic<CaptureProducer*> producer{nullptr};
    void request_stop() {
        requested.store(true);
        if (CaptureProducer* p = producer.load()) p->request_stop();
    }
};

// Sends what `send_next(producer, n)` sends for n = 0, 1, ... until it returns false or a signal
// comes, at most `rate` per second, then waits for every acknowledgement and prints the summary.
// `endless`: a stop signal is the normal end. Exit 0 when everything sent was acknowledged.
template <typename SendNext>
int send_traffic(const TrafficArgs& args, bool endless, SendNext&& send_next) {
    // Before anything can print: from here on the credentials among them are redacted.
    ClientProperties properties = client_properties(args.kafka);
    KafkaProperties producer_properties = {{"enable.idempotence", "true"},
                                           {"message.timeout.ms", std::to_string(default_message_timeout_ms)}};
    producer_properties.insert(producer_properties.end(), properties.producer.begin(), properties.producer.end());
    check_kafka_clients(properties.consumer, producer_properties);

    TrafficStop stop;
    const StopOnSignal on_signal(stop);
    if (!wait_for_topic(args.kafka.brokers, args.topic, "--topic", properties.consumer,
                        std::chrono::milliseconds(args.broker_wait_ms), stop.requested)) {
        log::warn("stopped before sending anything");
        return interrupted_exit;
    }
    std::atomic<uint64_t> delivered{0};
    CaptureProducer producer(args.kafka.brokers, args.topic, producer_properties,
                             [&](uint64_t, int32_t, int64_t) { delivered.fetch_add(1); });
    stop.producer.store(&producer);
    RateLimiter limiter(static_cast<double>(args.rate), std::max(1.0, static_cast<double>(args.rate) / 10));
    uint64_t sent = 0;
    bool finished = false;
    while (!stop.requested.load()) {
        const auto wait = limiter.acquire(RateLimiter::Clock::now());
        if (wait.count() > 0) {
            std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(wait, std::chrono::milliseconds(100)));
            producer.poll(std::chrono::milliseconds(0));
        }
        if (!send_next(producer, sent)) {
            finished = !stop.requested.load();
            break;
        }
        ++sent;
    }
    stop.producer.store(nullptr);
    const bool flushed = producer.flush(std::chrono::milliseconds(default_message_timeout_ms + 5'000));
    const uint64_t failed = sent - std::min(sent, delivered.load());
    std::string summary = "{\"topic\":";
    json::append_json_string(summary, args.topic);
    summary += ",\"sent\":" + std::to_string(sent) + ",\"delivered\":" + std::to_string(delivered.load()) +
               ",\"failed\":" + std::to_string(failed) + ",\"complete\":" + (finished ? "true" : "false") + "}";
    std::printf("%s\n", summary.c_str());
    if (!flushed || failed > 0) {
        log::error("messages were not acknowledged by the brokers",
                   {{"failed", std::to_string(failed)}, {"topic", args.topic}});
        return 1;
    }
    return finished || endless ? 0 : interrupted_exit;
}

void add_traffic_options(CLI::App& cmd, TrafficArgs& args) {
    add_config_option(cmd);
    add_kafka_client_options(cmd, args.kafka);
    cmd.add_option("--topic", args.topic, "Topic to write to (it must exist)")
        ->capture_default_str()
        ->check(topic_name());
    cmd.add_option("--rate", args.rate, "Messages per second (0: as fast as the brokers take them)")
        ->capture_default_str()
        ->check(whole_number<uint64_t>(0));
    add_broker_wait_option(cmd, args.broker_wait_ms);
}

struct LoadgenArgs {
    LoadgenArgs() { traffic.rate = 1000; }
    TrafficArgs traffic;
    uint64_t events = 100'000;
    int teams = 20;
    uint64_t seed = 1;
    std::string teams_file;
};

int run_loadgen(LoadgenArgs& args) {
    if (!args.teams_file.empty()) {
        std::ofstream out(args.teams_file, std::ios::binary | std::ios::trunc);
        out << loadgen::teams_json(args.teams) << '\n';
        if (!out.flush()) throw std::runtime_error("cannot write the teams file " + args.teams_file);
        log::info("wrote the generated teams", {{"file", args.teams_file}, {"teams", std::to_string(args.teams)}});
    }
    loadgen::EventGenerator generator(args.seed, args.teams);
    const bool endless = args.events == 0;
    return send_traffic(args.traffic, endless, [&](CaptureProducer& producer, uint64_t n) {
        if (!endless && n >= args.events) return false;
        const loadgen::GeneratedMessage m = generator.next(n);
        return producer.send(m.key, m.value, m.headers);
    });
}

struct ProduceArgs {
    TrafficArgs traffic;
    std::string input;
};

int run_produce(ProduceArgs& args) {
    std::ifstream file;
    std::istream* in = &std::cin;
    if (args.input != "-") {
        file.open(args.input, std::ios::binary);
        if (!file) throw std::runtime_error("cannot open the input file " + args.input);
        in = &file;
    }
    std::string line;
    int64_t line_number = 0;
    OwnedMessage message;
    const int exit_code = send_traffic(args.traffic, false, [&](CaptureProducer& producer, uint64_t) {
        while (std::getline(*in, line)) {
            ++line_number;
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (line.find_first_not_of(" \t") == std::string::npos) continue;  // blank lines are not messages
            // As `process` reads it: an envelope's key, headers and payload, or the line as a value.
            read_input_line(line, line_number - 1, message);
            return producer.send(message.key, message.value, message.headers);
        }
        if (in->bad())
            throw std::runtime_error("reading " + args.input + " failed at line " + std::to_string(line_number));
        return false;
    });
    return exit_code;
}

}  // namespace

Command add_loadgen_command(CLI::App& root) {
    auto args = std::make_shared<LoadgenArgs>();
    CLI::App* cmd = root.add_subcommand(
        "loadgen",
        "Write generated capture traffic (the demo's mix of public, secret, forged and malformed events) to a "
        "topic; prints a JSON summary last");
    add_traffic_options(*cmd, args->traffic);
    cmd->add_option("--events", args->events, "Messages to send (0: until stopped)")
        ->capture_default_str()
        ->check(whole_number<uint64_t>(0));
    cmd->add_option("--teams", args->teams, "Teams the events belong to (1..N, as --teams-file writes them)")
        ->capture_default_str()
        ->check(whole_number_range(1, 100000));
    cmd->add_option("--seed", args->seed, "Seed of the generated stream")
        ->capture_default_str()
        ->check(whole_number<uint64_t>(0));
    cmd->add_option("--teams-file", args->teams_file,
                    "Also write the generated teams (JSON, as `run --teams` reads) to this file");
    return {cmd, [args] { return run_loadgen(*args); }, /*stops_on_signal=*/true};
}

Command add_produce_command(CLI::App& root) {
    auto args = std::make_shared<ProduceArgs>();
    CLI::App* cmd = root.add_subcommand(
        "produce",
        "Write messages from a file of kcat -J envelopes (key, headers and payload; other lines are sent whole "
        "as values, as `process` reads them) to a topic; prints a JSON summary last");
    add_traffic_options(*cmd, args->traffic);
    cmd->add_option("--input", args->input, "File to send, one message per line ('-': standard input)")->required();
    return {cmd, [args] { return run_produce(*args); }, /*stops_on_signal=*/true};
}

}  // namespace warden::cli
