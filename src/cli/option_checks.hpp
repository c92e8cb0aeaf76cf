// Checks of option values, shared by every subcommand. Each says in plain words what the value
// must be ("must be a whole number of at least 1") and never repeats the value itself, because
// the same checks judge config-file and environment values, which may hold credentials.
#pragma once

#include <warden/core.hpp>

#include <CLI/CLI.hpp>

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <string_view>

namespace warden::cli {

// A whole number in decimal digits from `min` to `max`. `max_is_type_limit` says `max` is only what
// the option's variable can hold, not a range worth advertising.
CLI::Validator whole_number_within(uint64_t min, uint64_t max, bool max_is_type_limit);

// A whole number of at least `min` that an option variable of type T holds.
template <typename T>
CLI::Validator whole_number(uint64_t min) {
    return whole_number_within(min, static_cast<uint64_t>(std::numeric_limits<T>::max()), true);
}

// A whole number from `min` to `max`.
inline CLI::Validator whole_number_range(uint64_t min, uint64_t max) { return whole_number_within(min, max, false); }

// A finite decimal number of at least `min` (fractions allowed).
CLI::Validator number_at_least(double min);

// One of the given words.
CLI::Validator one_of(std::initializer_list<const char*> words);

// A librdkafka property written name=value (see parse_kafka_property); with `names_file`, the
// value is the file that holds the property's value: name=/path/to/file.
CLI::Validator kafka_property_text(bool names_file = false);

// A replay position: earliest, latest, an offset, epoch milliseconds or an ISO 8601 time.
CLI::Validator replay_position();

// Comma-separated partition numbers.
CLI::Validator partition_list();

// A Kafka topic name: 1 to 249 characters of letters, digits, '.', '_' and '-', other than "." and
// "..". Kafka refuses any other name, and `process` makes file names of the output topics.
CLI::Validator topic_name();
bool is_topic_name(std::string_view text);

// Refuses topic settings that would loop or mix records: an output topic equal to the input topic
// (each output would be consumed again, endlessly), or two outputs on one topic. Dead letters are
// raw inputs that readers of enriched events would misread; and although analytics and error
// tracking on one topic would make sense, outputs are counted by topic (the summary,
// warden_events_produced_total{topic}), and two outputs would give one topic two counts.
// `input_flag` names the input's setting; empty when there is no input topic (process). Throws
// UsageError naming both settings, never the topics.
void check_topic_roles(const std::string& input_topic, const std::string& input_flag, const TopicNames& outputs);

// Where the metrics server listens: host:port, [IPv6 address]:port, or "off". The port is 0 to
// 65535 (0 picks a free one).
CLI::Validator listen_address();

// Any text but an empty one.
CLI::Validator not_empty(const char* what);

}  // namespace warden::cli
