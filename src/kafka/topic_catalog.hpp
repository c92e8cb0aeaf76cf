// What the brokers list, and the start-up wait for it that `run` and `replay` share: warden checks
// that every topic it reads or writes exists before it starts, and never creates one.
#pragma once

#include "broker_health.hpp"

#include <warden/core.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace warden::kafka {

// Every topic the brokers list, with its partitions, from one metadata request for all topics.
// A request for one topic by name would make a broker with auto-creation (and librdkafka's mock
// cluster) create it, hiding a misspelt name.
class TopicCatalog {
public:
    // Nothing when the brokers did not answer within `timeout`; `error` then says why.
    static std::optional<TopicCatalog> fetch(rd_kafka_t* client, std::chrono::milliseconds timeout, std::string& error);

    bool has(const std::string& topic) const { return topics_.contains(topic); }
    // The topic's partition ids, ascending; empty for a topic that is not listed.
    std::vector<int32_t> partitions(const std::string& topic) const;
    // How many brokers the answer listed.
    int broker_count() const { return broker_count_; }

private:
    std::map<std::string, std::vector<int32_t>> topics_;
    int broker_count_ = 0;
};

// A topic warden needs and the setting that names it, for the error message.
struct RequiredTopic {
    std::string name;
    std::string_view setting;  // e.g. "--input-topic"
};

// Throws std::runtime_error naming every required topic the catalog lacks, with its setting.
void require_topics(const TopicCatalog& catalog, const std::vector<RequiredTopic>& required, std::string_view brokers);

struct BrokerWait {
    const std::atomic<bool>* stop = nullptr;         // stops the wait when set
    std::optional<std::chrono::milliseconds> limit;  // none: wait until stopped
    std::function<void()> on_turn;                   // called at least every 100 ms (liveness)
};

// Asks for the metadata of all topics until the brokers answer, with a backoff of 0.5 s doubling
// to 10 s between attempts, logging the cause once per attempt and recording each outcome in
// `health`. `client` must be a consumer whose events are served by rd_kafka_consumer_poll (its
// error events carry the cause). Returns nothing when stopped; throws std::runtime_error naming
// the brokers and the cause when `limit` passed.
std::optional<TopicCatalog> wait_for_brokers(rd_kafka_t* client, BrokerHealth& health, std::string_view brokers,
                                             const BrokerWait& wait);

// The start-up check of `run` and `replay`: waits for the brokers, then requires `input`, the
// four output topics and `also` (the audit topic). Nothing when stopped while waiting; throws
// std::runtime_error as wait_for_brokers and require_topics do.
std::optional<TopicCatalog> check_cluster(rd_kafka_t* client, BrokerHealth& health, std::string_view brokers,
                                          const RequiredTopic& input, const TopicNames& outputs, const BrokerWait& wait,
                                          const std::vector<RequiredTopic>& also = {});

}  // namespace warden::kafka
