#include <warden/kafka_handles.hpp>

#include <warden/log.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

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

constexpr std::string_view value_not_shown = "(value not shown)";

// Every value `conf` holds that differs from librdkafka's default: warden's settings and the
// operator's, the credentials among them.
std::vector<std::string> values_set(const rd_kafka_conf_t* conf) {
    const auto dump = [](const char** pairs, size_t count) {
        std::map<std::string_view, std::string_view> out;
        for (size_t i = 0; i + 1 < count; i += 2) out.emplace(pairs[i], pairs[i + 1]);
        return out;
    };
    std::vector<std::string> values;
    const auto collect = [&](const char** set, size_t set_count, const char** defaults, size_t default_count) {
        const auto by_name = dump(defaults, default_count);
        for (const auto& [name, value] : dump(set, set_count)) {
            const auto standard = by_name.find(name);
            if (!value.empty() && (standard == by_name.end() || standard->second != value)) values.emplace_back(value);
        }
        rd_kafka_conf_dump_free(set, set_count);
        rd_kafka_conf_dump_free(defaults, default_count);
    };
    // rd_kafka_conf_dump takes a non-const handle but only reads it.
    auto* readable = const_cast<rd_kafka_conf_t*>(conf);
    ConfPtr fresh(rd_kafka_conf_new());
    size_t set_count = 0, default_count = 0;
    const char** set = rd_kafka_conf_dump(readable, &set_count);
    const char** defaults = rd_kafka_conf_dump(fresh.get(), &default_count);
    collect(set, set_count, defaults, default_count);
    if (rd_kafka_topic_conf_t* topic = rd_kafka_conf_get_default_topic_conf(readable)) {
        std::unique_ptr<rd_kafka_topic_conf_t, void (*)(rd_kafka_topic_conf_t*)> fresh_topic(
            rd_kafka_topic_conf_new(), rd_kafka_topic_conf_destroy);
        set = rd_kafka_topic_conf_dump(topic, &set_count);
        defaults = rd_kafka_topic_conf_dump(fresh_topic.get(), &default_count);
        collect(set, set_count, defaults, default_count);
    }
    return values;
}

bool is_word_character(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// `text` with every copy of `values` replaced. A short value is replaced only where it stands as a
// word of its own, so that it does not cut up the words around it.
std::string without_values(std::string text, std::vector<std::string> values) {
    constexpr size_t short_value = 4;
    // The longest first: a value that holds another goes whole.
    std::sort(values.begin(), values.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
    for (const std::string& value : values) {
        for (size_t at = text.find(value); at != std::string::npos; at = text.find(value, at)) {
            const bool alone = (at == 0 || !is_word_character(text[at - 1])) &&
                               (at + value.size() == text.size() || !is_word_character(text[at + value.size()]));
            if (value.size() < short_value && !alone) {
                at += value.size();
                continue;
            }
            text.replace(at, value.size(), value_not_shown);
            at += value_not_shown.size();
        }
    }
    return text;
}

// syslog levels: 0–3 errors, 4 warnings, 5–6 info, 7 debug. Configuration warnings quote values
// ("`sasl.mechanism` set to `…`"), which may be credentials given to the wrong property.
void log_to_warden(const rd_kafka_t* rk, int level, const char* facility, const char* message) {
    const log::Level ours = level <= 3   ? log::Level::error
                            : level == 4 ? log::Level::warn
                            : level <= 6 ? log::Level::info
                                         : log::Level::debug;
    const std::string text = std::string_view(facility) == "CONFWARN"
                                 ? without_values(message, values_set(rd_kafka_conf(const_cast<rd_kafka_t*>(rk))))
                                 : std::string(message);
    log::write(ours, text, {{"component", "librdkafka"}, {"facility", facility}, {"client", rd_kafka_name(rk)}});
}

void log_nothing(const rd_kafka_t*, int, const char*, const char*) {}

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
    // The configuration is still ours after a failure; librdkafka's reason may quote any of its values.
    if (!rk)
        throw std::runtime_error("cannot create the Kafka client: " + without_values(errstr, values_set(conf.get())));
    (void)conf.release();  // owned by the client now
    return ClientPtr(rk);
}

}  // namespace kafka

void check_kafka_properties(const KafkaProperties& properties) { (void)kafka::make_conf(properties); }

void check_kafka_client(KafkaClientRole role, const KafkaProperties& properties) {
    kafka::ConfPtr conf = kafka::make_conf(properties);
    rd_kafka_conf_set_log_cb(conf.get(), kafka::log_nothing);  // the real client logs its warnings
    kafka::ClientPtr client =
        kafka::make_client(role == KafkaClientRole::consumer ? RD_KAFKA_CONSUMER : RD_KAFKA_PRODUCER, std::move(conf));
    // Destroyed at once: no group was joined, and no message waits for delivery.
    rd_kafka_destroy_flags(client.release(), RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
}

namespace kafka {

PartitionListPtr make_partition_list(int size) { return PartitionListPtr(rd_kafka_topic_partition_list_new(size)); }

bool finish_within(std::chrono::milliseconds limit, std::function<void()> work) {
    std::packaged_task<void()> task(std::move(work));
    std::future<void> finished = task.get_future();
    std::thread(std::move(task)).detach();  // the task owns everything the thread touches
    return finished.wait_for(limit) == std::future_status::ready;
}

bool abandon_consumer(ClientPtr consumer, std::chrono::milliseconds limit) {
    if (!consumer) return true;
    rd_kafka_t* client = consumer.release();
    const bool destroyed =
        finish_within(limit, [client] { rd_kafka_destroy_flags(client, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE); });
    if (!destroyed) {
        log::warn("the Kafka consumer was not destroyed in time; it is left to the process's exit",
                  {{"waited_ms", std::to_string(limit.count())}});
    }
    return destroyed;
}

void keep_until_exit(ClientPtr client) {
    static std::mutex mutex;
    // Never destroyed: the clients stay reachable, not leaked, until the process is gone.
    static auto* kept = new std::vector<rd_kafka_t*>;
    std::lock_guard lock(mutex);
    kept->push_back(client.release());
}

int64_t wall_clock_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace kafka
}  // namespace warden
