// Admin API requests of the real-broker tier: create and delete topics, delete records.
#include "kafka_admin.hpp"

#include <warden/kafka_handles.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <set>
#include <stdexcept>
#include <thread>

namespace itest {
namespace {

constexpr int request_timeout_ms = 10'000;

struct AdminDeleter {
    void operator()(rd_kafka_event_t* event) const { rd_kafka_event_destroy(event); }
    void operator()(rd_kafka_AdminOptions_t* options) const { rd_kafka_AdminOptions_destroy(options); }
    void operator()(rd_kafka_NewTopic_t* topic) const { rd_kafka_NewTopic_destroy(topic); }
    void operator()(rd_kafka_DeleteTopic_t* topic) const { rd_kafka_DeleteTopic_destroy(topic); }
    void operator()(rd_kafka_DeleteRecords_t* records) const { rd_kafka_DeleteRecords_destroy(records); }
};
using EventPtr = std::unique_ptr<rd_kafka_event_t, AdminDeleter>;

// A client for admin requests and the queue their results arrive on.
struct AdminClient {
    explicit AdminClient(const std::string& brokers)
        : client(warden::kafka::make_client(RD_KAFKA_PRODUCER,
                                            warden::kafka::make_conf({{"bootstrap.servers", brokers}}))),
          queue(rd_kafka_queue_new(client.get())),
          options(rd_kafka_AdminOptions_new(client.get(), RD_KAFKA_ADMIN_OP_ANY)) {
        char reason[256];
        rd_kafka_AdminOptions_set_operation_timeout(options.get(), request_timeout_ms, reason, sizeof reason);
        rd_kafka_AdminOptions_set_request_timeout(options.get(), request_timeout_ms, reason, sizeof reason);
    }

    // The result of the request just sent; throws when none came or the request failed as a whole.
    EventPtr result(const std::string& what) const {
        EventPtr event(rd_kafka_queue_poll(queue.get(), 2 * request_timeout_ms));
        if (!event) throw std::runtime_error(what + ": no answer from the broker");
        if (rd_kafka_event_error(event.get())) {
            throw std::runtime_error(what + ": " + rd_kafka_event_error_string(event.get()));
        }
        return event;
    }

    warden::kafka::ClientPtr client;
    warden::kafka::QueuePtr queue;
    std::unique_ptr<rd_kafka_AdminOptions_t, AdminDeleter> options;
};

// The first failure among per-topic results, or "" when all succeeded.
std::string first_failure(const rd_kafka_topic_result_t** results, size_t count) {
    for (size_t i = 0; i < count; ++i) {
        if (rd_kafka_topic_result_error(results[i])) {
            return std::string(rd_kafka_topic_result_name(results[i])) + ": " +
                   rd_kafka_topic_result_error_string(results[i]);
        }
    }
    return "";
}

// Whether the metadata of all topics (never one by name, which can create it) lists every topic
// of `topics` with all its partitions led.
bool all_listed(rd_kafka_t* client, const std::vector<TopicSpec>& topics) {
    const rd_kafka_metadata_t* metadata = nullptr;
    if (rd_kafka_metadata(client, 1, nullptr, &metadata, request_timeout_ms)) return false;
    std::set<std::string> ready;
    for (int i = 0; i < metadata->topic_cnt; ++i) {
        const rd_kafka_metadata_topic_t& t = metadata->topics[i];
        bool led = !t.err && t.partition_cnt > 0;
        for (int p = 0; p < t.partition_cnt; ++p) led = led && !t.partitions[p].err && t.partitions[p].leader >= 0;
        if (led) ready.insert(t.topic);
    }
    rd_kafka_metadata_destroy(metadata);
    for (const TopicSpec& topic : topics) {
        if (!ready.count(topic.name)) return false;
    }
    return true;
}

}  // namespace

void create_topics(const std::string& brokers, const std::vector<TopicSpec>& topics) {
    AdminClient admin(brokers);
    std::vector<std::unique_ptr<rd_kafka_NewTopic_t, AdminDeleter>> owned;
    std::vector<rd_kafka_NewTopic_t*> requests;
    char reason[256];
    for (const TopicSpec& topic : topics) {
        owned.emplace_back(rd_kafka_NewTopic_new(topic.name.c_str(), topic.partitions, -1, reason, sizeof reason));
        if (!owned.back()) throw std::runtime_error("cannot ask for topic " + topic.name + ": " + reason);
        for (const auto& [name, value] : topic.config) {
            rd_kafka_NewTopic_set_config(owned.back().get(), name.c_str(), value.c_str());
        }
        requests.push_back(owned.back().get());
    }
    rd_kafka_CreateTopics(admin.client.get(), requests.data(), requests.size(), admin.options.get(), admin.queue.get());
    const EventPtr event = admin.result("cannot create the test topics");
    size_t count = 0;
    const rd_kafka_topic_result_t** results =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event.get()), &count);
    if (const std::string failure = first_failure(results, count); !failure.empty()) {
        throw std::runtime_error("cannot create topic " + failure);
    }
    // Created is not yet usable: clients need metadata with a leader for every partition, from
    // whichever node they ask, and each node learns of a new topic from the controller a moment
    // later. A client that knows one node only asks that node.
    std::vector<std::string> nodes;
    for (size_t at = 0; at <= brokers.size();) {
        const size_t comma = std::min(brokers.find(',', at), brokers.size());
        if (comma > at) nodes.push_back(brokers.substr(at, comma - at));
        at = comma + 1;
    }
    const auto listed_everywhere = [&] {
        return std::all_of(nodes.begin(), nodes.end(), [&](const std::string& node) {
            const AdminClient one_node(node);
            return all_listed(one_node.client.get(), topics);
        });
    };
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!listed_everywhere()) {
        if (std::chrono::steady_clock::now() > deadline) {
            throw std::runtime_error("the created test topics did not appear in the metadata within 30 s");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

void delete_topics(const std::string& brokers, const std::vector<std::string>& names) {
    try {
        AdminClient admin(brokers);
        std::vector<std::unique_ptr<rd_kafka_DeleteTopic_t, AdminDeleter>> owned;
        std::vector<rd_kafka_DeleteTopic_t*> requests;
        for (const std::string& name : names) {
            owned.emplace_back(rd_kafka_DeleteTopic_new(name.c_str()));
            requests.push_back(owned.back().get());
        }
        rd_kafka_DeleteTopics(admin.client.get(), requests.data(), requests.size(), admin.options.get(),
                              admin.queue.get());
        const EventPtr event = admin.result("cannot delete the test topics");
        size_t count = 0;
        const rd_kafka_topic_result_t** results =
            rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(event.get()), &count);
        if (const std::string failure = first_failure(results, count); !failure.empty()) {
            std::fprintf(stderr, "cannot delete test topic %s\n", failure.c_str());
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
    }
}

void delete_records(const std::string& brokers, const std::string& topic, int32_t partition, int64_t before) {
    AdminClient admin(brokers);
    warden::kafka::PartitionListPtr offsets = warden::kafka::make_partition_list(1);
    rd_kafka_topic_partition_list_add(offsets.get(), topic.c_str(), partition)->offset = before;
    std::unique_ptr<rd_kafka_DeleteRecords_t, AdminDeleter> request(rd_kafka_DeleteRecords_new(offsets.get()));
    rd_kafka_DeleteRecords_t* requests[] = {request.get()};
    rd_kafka_DeleteRecords(admin.client.get(), requests, 1, admin.options.get(), admin.queue.get());
    const std::string what = "cannot delete the records of " + topic + " below offset " + std::to_string(before);
    const EventPtr event = admin.result(what);
    const rd_kafka_topic_partition_list_t* result =
        rd_kafka_DeleteRecords_result_offsets(rd_kafka_event_DeleteRecords_result(event.get()));
    if (!result || result->cnt != 1) throw std::runtime_error(what + ": no result for the partition");
    if (result->elems[0].err) throw std::runtime_error(what + ": " + rd_kafka_err2str(result->elems[0].err));
}

std::optional<GroupDescription> describe_group(const std::string& brokers, const std::string& group,
                                               const std::string& topic) {
    AdminClient admin(brokers);
    const char* groups[] = {group.c_str()};
    rd_kafka_DescribeConsumerGroups(admin.client.get(), groups, 1, admin.options.get(), admin.queue.get());
    EventPtr event(rd_kafka_queue_poll(admin.queue.get(), 2 * request_timeout_ms));
    if (!event || rd_kafka_event_error(event.get())) return std::nullopt;
    size_t count = 0;
    const rd_kafka_ConsumerGroupDescription_t** described = rd_kafka_DescribeConsumerGroups_result_groups(
        rd_kafka_event_DescribeConsumerGroups_result(event.get()), &count);
    if (count != 1 || rd_kafka_ConsumerGroupDescription_error(described[0])) return std::nullopt;
    GroupDescription description;
    description.state = rd_kafka_ConsumerGroupDescription_state(described[0]);
    for (size_t i = 0; i < rd_kafka_ConsumerGroupDescription_member_count(described[0]); ++i) {
        const rd_kafka_MemberDescription_t* member = rd_kafka_ConsumerGroupDescription_member(described[0], i);
        GroupDescription::Member& m = description.members.emplace_back();
        m.consumer_id = rd_kafka_MemberDescription_consumer_id(member);
        const char* instance = rd_kafka_MemberDescription_group_instance_id(member);
        m.instance_id = instance ? instance : "";
        const rd_kafka_topic_partition_list_t* assigned =
            rd_kafka_MemberAssignment_partitions(rd_kafka_MemberDescription_assignment(member));
        for (int p = 0; assigned && p < assigned->cnt; ++p) {
            if (topic == assigned->elems[p].topic) m.partitions.push_back(assigned->elems[p].partition);
        }
    }
    return description;
}

bool group_stable(const std::string& brokers, const std::string& group, const std::string& topic, size_t members,
                  int partitions) {
    const std::optional<GroupDescription> description = describe_group(brokers, group, topic);
    if (!description || description->state != RD_KAFKA_CONSUMER_GROUP_STATE_STABLE ||
        description->members.size() != members) {
        return false;
    }
    std::set<int32_t> assigned;
    for (const GroupDescription::Member& m : description->members)
        assigned.insert(m.partitions.begin(), m.partitions.end());
    return assigned.size() == static_cast<size_t>(partitions);
}

}  // namespace itest
