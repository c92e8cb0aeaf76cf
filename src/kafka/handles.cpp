#include "handles.hpp"

#include <warden/log.hpp>

#include <chrono>
#include <stdexcept>

namespace warden {

namespace {

// librdkafka's property names: lowercase words joined by '.', some with '_'.
bool is_property_name(std::string_view name) {
    if (name.empty()) return false;
    for (const char c : name) {
        const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                             c == '_' || c == '-';
        if (!allowed) return false;
    }
    return true;
}

}  // namespace

// The text is never quoted in errors: a malformed property is as likely to hold a password as a
// well-formed one (`sasl.password:hunter2`).
std::pair<std::string, std::string> parse_kafka_property(std::string_view text) {
    const size_t eq = text.find('=');
    if (eq == std::string_view::npos) {
        throw std::invalid_argument("a Kafka property must look like name=value, such as security.protocol=SASL_SSL");
    }
    const std::string_view name = text.substr(0, eq);
    if (!is_property_name(name)) {
        throw std::invalid_argument(
            "a Kafka property name holds only letters, digits, '.', '_' and '-' and is followed directly by '=' "
            "(name=value, no spaces), such as sasl.username=reader");
    }
    return {std::string(name), std::string(text.substr(eq + 1))};
}

namespace kafka {
namespace {

// syslog levels: 0–3 errors, 4 warnings, 5–6 info, 7 debug.
void log_to_warden(const rd_kafka_t* rk, int level, const char* facility, const char* message) {
    const log::Level ours = level <= 3 ? log::Level::error : level == 4 ? log::Level::warn
                          : level <= 6 ? log::Level::info : log::Level::debug;
    log::write(ours, message, {{"component", "librdkafka"}, {"facility", facility}, {"client", rd_kafka_name(rk)}});
}

// librdkafka's refusal with the refused value taken out. It quotes values ("Invalid value \"…\"
// for configuration property \"name\""), possibly cut off at the end of its buffer, and a value
// given to the wrong property may be a password: every quoted text but the property's name goes.
std::string without_value(std::string_view text, const std::string& name, const std::string& value) {
    constexpr std::string_view replacement = "(the value)";
    std::string out;
    for (;;) {
        const size_t open = text.find('"');
        if (open == std::string_view::npos) break;
        out += text.substr(0, open + 1);
        const size_t close = text.find('"', open + 1);
        if (close == std::string_view::npos) {
            out += replacement;
            out += '"';
            text = {};
            break;
        }
        const std::string_view quoted = text.substr(open + 1, close - open - 1);
        out += quoted == name ? quoted : replacement;
        out += '"';
        text.remove_prefix(close + 1);
    }
    out += text;
    // Bare copies too, unless the value is so short that it would cut up the words around it.
    if (value.size() >= 4) {
        for (size_t at = out.find(value); at != std::string::npos; at = out.find(value, at + replacement.size())) {
            out.replace(at, value.size(), replacement);
        }
    }
    return out;
}

}  // namespace

ConfPtr make_conf(const KafkaProperties& properties) {
    ConfPtr conf(rd_kafka_conf_new());
    char errstr[512];
    for (const auto& [name, value] : properties) {
        if (rd_kafka_conf_set(conf.get(), name.c_str(), value.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
            throw std::runtime_error("Kafka property " + name + ": " + without_value(errstr, name, value));
        }
    }
    rd_kafka_conf_set_log_cb(conf.get(), log_to_warden);
    return conf;
}

ClientPtr make_client(rd_kafka_type_t type, ConfPtr conf) {
    char errstr[512];
    rd_kafka_t* rk = rd_kafka_new(type, conf.get(), errstr, sizeof errstr);
    if (!rk) throw std::runtime_error(std::string("cannot create the Kafka client: ") + errstr);
    conf.release();  // owned by the client now
    return ClientPtr(rk);
}

PartitionListPtr make_partition_list(int size) { return PartitionListPtr(rd_kafka_topic_partition_list_new(size)); }

int64_t wall_clock_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace kafka
}  // namespace warden
