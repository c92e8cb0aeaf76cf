#include "shared_options.hpp"

#include "option_checks.hpp"

#include <map>

namespace warden::cli {

void add_topic_options(CLI::App& cmd, TopicNames& topics) {
    struct TopicOption {
        const char* flag;
        std::string* topic;
        const char* help;
        const char* envname;
    };
    const TopicOption options[] = {
        {"--analytics-topic", &topics.analytics, "Output topic of ordinary events", "WARDEN_ANALYTICS_TOPIC"},
        {"--error-tracking-topic", &topics.error_tracking, "Output topic of $exception events",
         "WARDEN_ERROR_TRACKING_TOPIC"},
        {"--heatmaps-topic", &topics.heatmaps, "Output topic of $$heatmap events", "WARDEN_HEATMAPS_TOPIC"},
        {"--dlq-topic", &topics.dead_letter, "Dead-letter topic", "WARDEN_DLQ_TOPIC"},
    };
    for (const TopicOption& o : options) {
        cmd.add_option(o.flag, *o.topic, o.help)->envname(o.envname)->capture_default_str()->check(topic_name());
    }
}

void add_max_message_bytes_option(CLI::App& cmd, CoreLimits& limits, const char* envname) {
    CLI::Option* option =
        cmd.add_option("--max-message-bytes", limits.max_message_bytes,
                       "Largest record accepted or produced (at least " +
                           std::to_string(CoreLimits::min_message_bytes) + ", so that a dead letter always fits)")
            ->capture_default_str()
            ->check(whole_number<size_t>(CoreLimits::min_message_bytes));
    if (envname) option->envname(envname);
}

void add_processing_guarantee_options(CLI::App& cmd, std::string& guarantee, int64_t& interval_ms, bool envnames) {
    CLI::Option* kind =
        cmd.add_option("--processing-guarantee", guarantee,
                       "at-least-once (a crash redoes the uncommitted tail: some outputs twice) or exactly-once "
                       "(outputs and input progress in one transaction: read_committed consumers see each output once)")
            ->capture_default_str()
            ->check(one_of({"at-least-once", "exactly-once"}));
    CLI::Option* interval =
        cmd.add_option("--transaction-interval-ms", interval_ms,
                       "Exactly-once: how long a transaction collects batches before it commits (outputs become "
                       "visible to read_committed consumers then)")
            ->capture_default_str()
            ->check(whole_number<int64_t>(1));
    if (envnames) {
        kind->envname("WARDEN_PROCESSING_GUARANTEE");
        interval->envname("WARDEN_TRANSACTION_INTERVAL_MS");
    }
}

ProcessingGuarantee processing_guarantee_named(const std::string& guarantee) {
    return guarantee == "exactly-once" ? ProcessingGuarantee::exactly_once : ProcessingGuarantee::at_least_once;
}

void add_log_level_option(CLI::App& cmd, std::string& level) {
    cmd.add_option("--log-level", level, "debug, info, warn or error")
        ->envname("WARDEN_LOG_LEVEL")
        ->capture_default_str()
        ->check(one_of({"debug", "info", "warn", "error"}));
}

log::Level log_level_named(const std::string& level) {
    static const std::map<std::string, log::Level> levels = {{"debug", log::Level::debug},
                                                             {"info", log::Level::info},
                                                             {"warn", log::Level::warn},
                                                             {"error", log::Level::error}};
    return levels.at(level);
}

void add_broker_wait_option(CLI::App& cmd, int64_t& wait_ms) {
    cmd.add_option("--broker-wait-ms", wait_ms,
                   "How long to wait for the brokers to answer before giving up with exit 1")
        ->capture_default_str()
        ->check(whole_number<int64_t>(0));
}

}  // namespace warden::cli
