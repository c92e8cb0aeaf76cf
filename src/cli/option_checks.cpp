#include "option_checks.hpp"

#include <warden/kafka.hpp>

#include <charconv>
#include <cmath>
#include <set>
#include <sstream>
#include <stdexcept>

namespace warden::cli {
namespace {

// Every character a decimal digit and the number fits in 64 bits.
std::optional<uint64_t> parse_whole(std::string_view text) {
    if (text.empty() || text.size() > 20) return std::nullopt;
    uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

std::string range_words(uint64_t min, uint64_t max, bool max_is_type_limit) {
    if (max_is_type_limit) return min == 0 ? "0 or more" : "at least " + std::to_string(min);
    return "from " + std::to_string(min) + " to " + std::to_string(max);
}

}  // namespace

CLI::Validator whole_number_within(uint64_t min, uint64_t max, bool max_is_type_limit) {
    const std::string words = range_words(min, max, max_is_type_limit);
    return CLI::Validator(
        [min, max, max_is_type_limit, words](std::string& text) -> std::string {
            const std::optional<uint64_t> value = parse_whole(text);
            if (value && *value >= min && *value <= max) return {};
            if (!max_is_type_limit) return "must be a whole number " + words;
            if (value && *value > max) return "must be a whole number of at most " + std::to_string(max);
            return "must be a whole number " + (min == 0 ? "(" + words + ")" : "of " + words);
        },
        words);
}

CLI::Validator number_at_least(double min) {
    std::ostringstream words;
    words << "at least " << min;
    return CLI::Validator(
        [min, message = "must be a number " + words.str()](std::string& text) -> std::string {
            double value = 0;
            auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
            if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value) ||
                value < min) {
                return message;
            }
            return {};
        },
        words.str());
}

CLI::Validator one_of(std::initializer_list<const char*> words) {
    std::set<std::string> allowed(words.begin(), words.end());
    std::string list;
    for (const char* word : words) list += (list.empty() ? "" : ", ") + std::string(word);
    return CLI::Validator(
        [allowed, message = "must be one of " + list](std::string& text) -> std::string {
            return allowed.count(text) ? std::string() : message;
        },
        "{" + list + "}");
}

CLI::Validator kafka_property_text(bool names_file) {
    return CLI::Validator(
        [names_file](std::string& text) -> std::string {
            try {
                const auto [name, value] = parse_kafka_property(text);
                if (names_file && value.empty()) return "must name a file after '=': name=/path/to/file";
            } catch (const std::invalid_argument& e) {
                return e.what();
            }
            return {};
        },
        names_file ? "name=FILE" : "name=value");
}

CLI::Validator replay_position() {
    return CLI::Validator(
        [](std::string& text) -> std::string {
            try {
                (void)parse_offset_spec(text);
            } catch (const std::invalid_argument&) {
                return "must be earliest, latest, an offset, epoch milliseconds or an ISO 8601 time with a zone "
                       "such as 2024-06-10T06:13:20Z";
            }
            return {};
        },
        "POSITION");
}

CLI::Validator partition_list() {
    return CLI::Validator(
        [](std::string& text) -> std::string {
            const std::string message = "must be partition numbers separated by commas, such as 0,3,7";
            std::set<uint64_t> seen;
            std::stringstream in(text);
            std::string item;
            size_t items = 0;
            while (std::getline(in, item, ',')) {
                ++items;
                const std::optional<uint64_t> partition = parse_whole(item);
                if (!partition || *partition > static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) return message;
                if (!seen.insert(*partition).second) return "names a partition twice; list each once";
            }
            if (items == 0 || text.back() == ',') return message;
            return {};
        },
        "LIST");
}

}  // namespace warden::cli
