#include "topic_catalog.hpp"

#include <warden/kafka_handles.hpp>

#include <warden/log.hpp>

#include <algorithm>
#include <stdexcept>
#include <thread>

namespace warden::kafka {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds metadata_timeout{2000};
constexpr std::chrono::milliseconds first_backoff{500};
constexpr std::chrono::milliseconds max_backoff{10'000};
constexpr std::chrono::milliseconds turn{100};

// Serves the client's queued events, so its error callback reports what the failed request met.
void serve_events(rd_kafka_t* client) {
    while (MessagePtr event{rd_kafka_consumer_poll(client, 0)}) {
        if (event->err)
            log::warn("Kafka consumer error", {{"error", log::redact(rd_kafka_message_errstr(event.get()))}});
    }
}

std::string seconds_text(std::chrono::steady_clock::duration d) {
    return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(d).count());
}

}  // namespace

std::optional<TopicCatalog> TopicCatalog::fetch(rd_kafka_t* client, std::chrono::milliseconds timeout,
                                                std::string& error) {
    const rd_kafka_metadata_t* metadata = nullptr;
    if (rd_kafka_resp_err_t err = rd_kafka_metadata(client, 1, nullptr, &metadata, static_cast<int>(timeout.count()))) {
        error = std::string("metadata request failed: ") + rd_kafka_err2str(err);
        return std::nullopt;
    }
    const MetadataPtr owned(metadata);
    TopicCatalog catalog;
    catalog.broker_count_ = metadata->broker_cnt;
    for (int t = 0; t < metadata->topic_cnt; ++t) {
        const rd_kafka_metadata_topic_t& topic = metadata->topics[t];
        if (topic.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) continue;
        std::vector<int32_t>& ids = catalog.topics_[topic.topic];
        for (int p = 0; p < topic.partition_cnt; ++p) ids.push_back(topic.partitions[p].id);
        std::sort(ids.begin(), ids.end());
    }
    return catalog;
}

std::vector<int32_t> TopicCatalog::partitions(const std::string& topic) const {
    auto it = topics_.find(topic);
    return it == topics_.end() ? std::vector<int32_t>{} : it->second;
}

void require_topics(const TopicCatalog& catalog, const std::vector<RequiredTopic>& required, std::string_view brokers) {
    std::string missing;
    size_t count = 0;
    std::vector<std::string_view> named;
    for (const RequiredTopic& topic : required) {
        // A topic in two roles (a redrive reads and writes the dead-letter topic) is named once.
        if (catalog.has(topic.name) || std::find(named.begin(), named.end(), topic.name) != named.end()) continue;
        named.push_back(topic.name);
        missing += (count++ ? ", " : "") + topic.name + " (" + std::string(topic.setting) + ")";
    }
    if (count == 0) return;
    throw std::runtime_error(std::string(count == 1 ? "topic " : "topics ") + missing +
                             (count == 1 ? " does not exist" : " do not exist") + " on the brokers at " +
                             std::string(brokers) +
                             ": create the topic, or correct the setting (warden never creates topics)");
}

std::optional<TopicCatalog> wait_for_brokers(rd_kafka_t* client, BrokerHealth& health, std::string_view brokers,
                                             const BrokerWait& wait) {
    const auto started = Clock::now();
    const auto stopped = [&] { return wait.stop && wait.stop->load(std::memory_order_relaxed); };
    auto backoff = first_backoff;
    for (;;) {
        if (wait.on_turn) wait.on_turn();
        std::string error;
        auto timeout = metadata_timeout;
        if (wait.limit) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(*wait.limit - (Clock::now() - started));
            timeout = std::clamp(left, turn, metadata_timeout);
        }
        if (std::optional<TopicCatalog> catalog = TopicCatalog::fetch(client, timeout, error)) {
            health.answered();
            if (Clock::now() - started > metadata_timeout) {
                log::info("the Kafka brokers answer",
                          {{"brokers", std::string(brokers)}, {"waited_s", seconds_text(Clock::now() - started)}});
            }
            return catalog;
        }
        serve_events(client);
        health.request_failed(error);
        const std::string connection_error = health.last_connection_error();
        const std::string cause = connection_error.empty() ? error : connection_error;
        if (wait.limit && Clock::now() - started >= *wait.limit) {
            throw std::runtime_error("cannot reach the Kafka brokers at " + std::string(brokers) + " within " +
                                     seconds_text(*wait.limit) + " s: " + cause +
                                     ". Check --brokers, the network and that the brokers are up");
        }
        log::warn("waiting for the Kafka brokers", {{"brokers", std::string(brokers)},
                                                    {"cause", cause},
                                                    {"waited_s", seconds_text(Clock::now() - started)},
                                                    {"retry_in_ms", std::to_string(backoff.count())}});
        const auto retry_at = Clock::now() + backoff;
        while (Clock::now() < retry_at) {
            if (stopped()) return std::nullopt;
            if (wait.limit && Clock::now() - started >= *wait.limit) break;
            if (wait.on_turn) wait.on_turn();
            serve_events(client);
            std::this_thread::sleep_for(std::min<Clock::duration>(turn, retry_at - Clock::now()));
        }
        if (stopped()) return std::nullopt;
        backoff = std::min(backoff * 2, max_backoff);
    }
}

std::optional<TopicCatalog> check_cluster(rd_kafka_t* client, BrokerHealth& health, std::string_view brokers,
                                          const RequiredTopic& input, const TopicNames& outputs, const BrokerWait& wait,
                                          const std::vector<RequiredTopic>& also) {
    std::optional<TopicCatalog> catalog = wait_for_brokers(client, health, brokers, wait);
    if (catalog) {
        std::vector<RequiredTopic> required = {input,
                                               {outputs.analytics, "--analytics-topic"},
                                               {outputs.error_tracking, "--error-tracking-topic"},
                                               {outputs.heatmaps, "--heatmaps-topic"},
                                               {outputs.dead_letter, "--dlq-topic"}};
        required.insert(required.end(), also.begin(), also.end());
        require_topics(*catalog, required, brokers);
    }
    return catalog;
}

}  // namespace warden::kafka
