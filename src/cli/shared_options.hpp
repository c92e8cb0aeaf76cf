// The options several commands take, declared once: output topics, the size limit and the log
// level (with --config, in layered_args.hpp, and the Kafka client options, in kafka_client_args.hpp).
#pragma once

#include <warden/core.hpp>
#include <warden/log.hpp>

#include <CLI/CLI.hpp>

#include <string>

namespace warden::cli {

// --analytics-topic, --error-tracking-topic, --heatmaps-topic, --dlq-topic (WARDEN_*_TOPIC).
void add_topic_options(CLI::App& cmd, TopicNames& topics);

// --max-message-bytes, at least CoreLimits::min_message_bytes; `envname` when it has a variable.
void add_max_message_bytes_option(CLI::App& cmd, CoreLimits& limits, const char* envname = nullptr);

// --log-level (WARDEN_LOG_LEVEL): debug, info (the default), warn or error, into `level`.
void add_log_level_option(CLI::App& cmd, std::string& level);
// The level a --log-level value names; the option's check admits no other value.
log::Level log_level_named(const std::string& level);

}  // namespace warden::cli
