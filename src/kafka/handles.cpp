#include "handles.hpp"

#include <warden/log.hpp>

#include <chrono>
#include <stdexcept>

namespace warden {

std::pair<std::string, std::string> parse_kafka_property(std::string_view text) {
    const size_t eq = text.find('=');
    if (eq == std::string_view::npos || eq == 0) {
        throw std::invalid_argument("a Kafka property must look like name=value, got '" + std::string(text) + "'");
    }
    return {std::string(text.substr(0, eq)), std::string(text.substr(eq + 1))};
}

namespace kafka {
namespace {

// syslog levels: 0–3 errors, 4 warnings, 5–6 info, 7 debug.
void log_to_warden(const rd_kafka_t* rk, int level, const char* facility, const char* message) {
    const log::Level ours = level <= 3 ? log::Level::error : level == 4 ? log::Level::warn
                          : level <= 6 ? log::Level::info : log::Level::debug;
    log::write(ours, message, {{"component", "librdkafka"}, {"facility", facility}, {"client", rd_kafka_name(rk)}});
}

}  // namespace

ConfPtr make_conf(const KafkaProperties& properties) {
    ConfPtr conf(rd_kafka_conf_new());
    char errstr[512];
    for (const auto& [name, value] : properties) {
        if (rd_kafka_conf_set(conf.get(), name.c_str(), value.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
            throw std::runtime_error("Kafka property " + name + ": " + errstr);
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
