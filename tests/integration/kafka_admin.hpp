// Topic administration on a real broker through librdkafka's Admin API: the real-broker tier
// creates topics of its own per test case, deletes them afterwards, and cuts a log's start.
#pragma once

#include <cstdint>
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

}  // namespace itest
