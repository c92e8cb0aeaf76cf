// Topic administration on a real broker through librdkafka's Admin API: the real-broker tier
// creates topics of its own per test case, deletes them afterwards, and cuts a log's start.
#pragma once

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace itest {

struct TopicSpec {
    std::string name;
    int partitions = 1;
    std::vector<std::pair<std::string, std::string>> config;  // topic configs, e.g. max.message.bytes
};

// Creates the topics (replication factor 1) and waits until the metadata of all topics lists
// each with a leader for every partition. Throws std::runtime_error with the broker's reason.
void create_topics(const std::string& brokers, const std::vector<TopicSpec>& topics);

// Deletes the topics; best effort (a failure is only logged), for clean-up.
void delete_topics(const std::string& brokers, const std::vector<std::string>& names);

// Deletes the records of `topic`/`partition` below `before`: the log start offset moves there,
// as when retention removes old segments. Throws std::runtime_error on failure.
void delete_records(const std::string& brokers, const std::string& topic, int32_t partition, int64_t before);

// A consumer group as its coordinator describes it: its state and, per member, the partitions of
// one topic assigned to it.
struct GroupDescription {
    struct Member {
        std::string consumer_id;
        std::string instance_id;  // "" without static membership
        std::vector<int32_t> partitions;
    };
    rd_kafka_consumer_group_state_t state = RD_KAFKA_CONSUMER_GROUP_STATE_UNKNOWN;
    std::vector<Member> members;
};

// Describes `group`, counting only the partitions of `topic`; nothing when the request failed.
std::optional<GroupDescription> describe_group(const std::string& brokers, const std::string& group,
                                               const std::string& topic);

// True when `group` is Stable with exactly `members` members that together own all `partitions`
// partitions of `topic`: its rebalances are over.
bool group_stable(const std::string& brokers, const std::string& group, const std::string& topic, size_t members,
                  int partitions);

}  // namespace itest
