// The options several commands take, declared once: output topics, the size limit and the log
// level (with --config, in layered_args.hpp, and the Kafka client options, in kafka_client_args.hpp).
#pragma once

#include <warden/core.hpp>
#include <warden/log.hpp>
#include <warden/processing_guarantee.hpp>

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

namespace warden::cli {

// --analytics-topic, --error-tracking-topic, --heatmaps-topic, --dlq-topic (WARDEN_*_TOPIC).
void add_topic_options(CLI::App& cmd, TopicNames& topics);

// --max-message-bytes, at least CoreLimits::min_message_bytes; `envname` when it has a variable.
void add_max_message_bytes_option(CLI::App& cmd, CoreLimits& limits, const char* envname = nullptr);

// --processing-guarantee and --transaction-interval-ms, into `guarantee` and `interval_ms`; with
// `envnames`, also from WARDEN_PROCESSING_GUARANTEE and WARDEN_TRANSACTION_INTERVAL_MS.
void add_processing_guarantee_options(CLI::App& cmd, std::string& guarantee, int64_t& interval_ms, bool envnames);
// The guarantee a --processing-guarantee value names; the option's check admits no other value.
ProcessingGuarantee processing_guarantee_named(const std::string& guarantee);

// --broker-wait-ms: how long a command that ends by itself (replay, loadgen, produce) waits for
// the brokers' first answer before it gives up with exit 1.
void add_broker_wait_option(CLI::App& cmd, int64_t& wait_ms);

// --log-level (WARDEN_LOG_LEVEL): debug, info (the default), warn or error, into `level`.
void add_log_level_option(CLI::App& cmd, std::string& level);
// The level a --log-level value names; the option's check admits no other value.
log::Level log_level_named(const std::string& level);

}  // namespace warden::cli
