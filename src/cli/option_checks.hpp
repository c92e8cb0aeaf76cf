// Checks of option values, shared by every subcommand. Each says in plain words what the value
// must be ("must be a whole number of at least 1") and never repeats the value itself, because
// the same checks judge config-file and environment values, which may hold credentials.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>

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

}  // namespace warden::cli
