#include "option_checks.hpp"

#include "usage.hpp"

#include <warden/kafka_properties.hpp>
#include <warden/offset_spec.hpp>

#include <algorithm>
#include <cctype>
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

constexpr size_t max_topic_name_length = 249;  // Kafka's limit
constexpr uint64_t max_port = 65535;

bool is_host_name(std::string_view host) {
    if (host.empty() || host.size() > 253) return false;
    return std::all_of(host.begin(), host.end(),
                       [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-'; });
}

// An IPv6 address as written inside brackets: hex digits and ':', with a dotted IPv4 tail allowed.
bool is_ipv6_literal(std::string_view address) {
    if (address.find(':') == std::string_view::npos) return false;
    return std::all_of(address.begin(), address.end(),
                       [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.'; });
}

bool is_listen_address(std::string_view text) {
    if (text == "off") return true;
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return false;
    const std::optional<uint64_t> port = parse_whole(text.substr(colon + 1));
    if (!port || *port > max_port) return false;
    const std::string_view host = text.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']')
        return is_ipv6_literal(host.substr(1, host.size() - 2));
    return is_host_name(host);
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
            return allowed.contains(text) ? std::string() : message;
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
            std::string message = "must be partition numbers separated by commas, such as 0,3,7";
            std::set<uint64_t> seen;
            std::stringstream in(text);
            std::string item;
            size_t items = 0;
            while (std::getline(in, item, ',')) {
                ++items;
                const std::optional<uint64_t> partition = parse_whole(item);
                if (!partition || *partition > static_cast<uint64_t>(std::numeric_limits<int32_t>::max()))
                    return message;
                if (!seen.insert(*partition).second) return "names a partition twice; list each once";
            }
            if (items == 0 || text.back() == ',') return message;
            return {};
        },
        "LIST");
}

bool is_topic_name(std::string_view text) {
    if (text.empty() || text.size() > max_topic_name_length || text == "." || text == "..") return false;
    return std::all_of(text.begin(), text.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    });
}

CLI::Validator topic_name() {
    return CLI::Validator(
        [](std::string& text) -> std::string {
            if (is_topic_name(text)) return {};
            return "must be a Kafka topic name: 1 to 249 letters, digits, '.', '_' or '-' (and not . or ..)";
        },
        "TOPIC");
}

void check_topic_roles(const std::string& input_topic, const std::string& input_flag, const TopicNames& outputs) {
    const std::pair<const std::string*, const char*> roles[] = {{&outputs.analytics, "--analytics-topic"},
                                                                {&outputs.error_tracking, "--error-tracking-topic"},
                                                                {&outputs.heatmaps, "--heatmaps-topic"},
                                                                {&outputs.dead_letter, "--dlq-topic"}};
    for (const auto& [topic, flag] : roles) {
        if (!input_flag.empty() && *topic == input_topic) {
            throw UsageError(std::string(flag) + " names the same topic as " + input_flag + ": every record written " +
                             "there would be read again, endlessly; give each output a topic other than the input");
        }
    }
    for (size_t later = 1; later < std::size(roles); ++later) {
        for (size_t earlier = 0; earlier < later; ++earlier) {
            if (*roles[later].first != *roles[earlier].first) continue;
            const std::string both =
                std::string(roles[later].second) + " names the same topic as " + roles[earlier].second;
            // The enriched outputs may share a topic; dead letters may not share one with them.
            if (roles[later].first == &outputs.dead_letter) {
                throw UsageError(both + ": dead letters are raw inputs that readers of enriched events would " +
                                 "misread; give dead letters a topic of their own");
            }
        }
    }
}

CLI::Validator listen_address() {
    return CLI::Validator(
        [](std::string& text) -> std::string {
            if (is_listen_address(text)) return {};
            return "must be host:port, such as 0.0.0.0:9464, 127.0.0.1:0 or [::1]:9464 (port 0 to 65535, 0 picks a "
                   "free one), or off";
        },
        "HOST:PORT");
}

CLI::Validator not_empty(const char* what) {
    return CLI::Validator([message = std::string("must not be empty: give ") + what](
                              std::string& text) -> std::string { return text.empty() ? message : std::string(); },
                          "");
}

}  // namespace warden::cli
