// `warden check`, the Kafka side: the brokers, the topics and the group, as `run` would meet them.
#include "topic_catalog.hpp"
#include "watermarks.hpp"

#include <warden/dependency_checks.hpp>
#include <warden/kafka_handles.hpp>
#include <warden/log.hpp>

#include <algorithm>

namespace warden {
namespace {

using kafka::ClientPtr;

// The first error event the client queued (why a request failed: refused connections, failed
// authentication), redacted; empty when there is none.
std::string first_client_error(rd_kafka_t* client) {
    std::string first;
    while (kafka::MessagePtr event{rd_kafka_consumer_poll(client, 0)}) {
        if (event->err && first.empty()) first = log::redact(rd_kafka_message_errstr(event.get()));
    }
    return first;
}

DependencyCheck topic_check(const kafka::TopicCatalog& catalog, const std::string& role, const std::string& topic,
                            const std::string& setting) {
    DependencyCheck check{role + " " + topic, false, {}};
    const size_t partitions = catalog.partitions(topic).size();
    if (!catalog.has(topic)) {
        check.detail = "does not exist: create it, or correct " + setting + " (warden never creates topics)";
    } else if (partitions == 0) {
        check.detail = "has no partitions";
    } else {
        check.passed = true;
        check.detail = std::to_string(partitions) + (partitions == 1 ? " partition" : " partitions");
    }
    return check;
}

// Reads the group's committed offsets of the input topic (OffsetFetch: what a member reads when it
// is assigned a partition) and sets them against the high watermarks.
DependencyCheck group_offsets_check(rd_kafka_t* client, const KafkaDependencies& d,
                                    const std::vector<int32_t>& partitions) {
    DependencyCheck check{"group " + d.group, false, {}};
    kafka::PartitionListPtr list = kafka::make_partition_list(static_cast<int>(partitions.size()));
    for (int32_t p : partitions) rd_kafka_topic_partition_list_add(list.get(), d.input_topic.c_str(), p);
    if (rd_kafka_resp_err_t err = rd_kafka_committed(client, list.get(), static_cast<int>(d.timeout.count()))) {
        check.detail = std::string("cannot read its committed offsets: ") + rd_kafka_err2str(err) +
                       ": the principal needs Describe and Read on the group (and Read on the input topic)";
        return check;
    }
    std::map<int32_t, kafka::Watermarks> marks;
    const bool have_marks = kafka::query_watermarks(client, d.input_topic, partitions, d.timeout, marks) == 0;
    int committed = 0;
    int64_t lag = 0;
    for (int i = 0; i < list->cnt; ++i) {
        const rd_kafka_topic_partition_t& tp = list->elems[i];
        if (tp.err) {
            check.detail = "partition " + std::to_string(tp.partition) + ": " + rd_kafka_err2str(tp.err);
            return check;
        }
        if (tp.offset < 0) continue;
        ++committed;
        if (auto it = marks.find(tp.partition); it != marks.end())
            lag += std::max<int64_t>(0, it->second.high - tp.offset);
    }
    check.passed = true;
    check.detail = "committed offsets on " + std::to_string(committed) + " of " + std::to_string(partitions.size()) +
                   " partitions of " + d.input_topic;
    if (committed > 0 && have_marks) check.detail += ", " + std::to_string(lag) + " messages behind";
    return check;
}

// DescribeGroups: the group's state and members. Brokers without the request (librdkafka's mock
// cluster) leave it at the offsets check.
void describe_group(rd_kafka_t* client, const KafkaDependencies& d, DependencyCheck& check) {
    const rd_kafka_group_list* groups = nullptr;
    const rd_kafka_resp_err_t err =
        rd_kafka_list_groups(client, d.group.c_str(), &groups, static_cast<int>(d.timeout.count()));
    if (err == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE) {
        check.detail += "; the brokers do not describe groups";
        return;
    }
    if (err) {
        check.passed = false;
        check.detail += std::string("; cannot describe it: ") + rd_kafka_err2str(err) +
                        ": the principal needs Describe on the group";
        return;
    }
    for (int i = 0; i < groups->group_cnt; ++i) {
        const rd_kafka_group_info& g = groups->groups[i];
        if (g.err) {
            check.passed = false;
            check.detail += std::string("; cannot describe it: ") + rd_kafka_err2str(g.err);
        } else if (d.group == g.group) {
            check.detail += std::string("; state ") + g.state + ", " + std::to_string(g.member_cnt) +
                            (g.member_cnt == 1 ? " member" : " members");
        }
    }
    rd_kafka_group_list_destroy(groups);
}

}  // namespace

std::vector<DependencyCheck> check_kafka_dependencies(const KafkaDependencies& d) {
    std::vector<DependencyCheck> checks;
    KafkaProperties properties;
    // The check reads and never joins: a static member's id would mean nothing here.
    for (const auto& property : d.consumer_properties) {
        if (property.first != "group.instance.id") properties.push_back(property);
    }
    ClientPtr client = kafka::make_client(RD_KAFKA_CONSUMER, kafka::make_conf(properties));
    rd_kafka_poll_set_consumer(client.get());

    std::string error;
    const std::optional<kafka::TopicCatalog> catalog = kafka::TopicCatalog::fetch(client.get(), d.timeout, error);
    if (!catalog) {
        const std::string cause = first_client_error(client.get());
        checks.push_back({"brokers " + d.brokers, false,
                          "no answer within " + std::to_string(d.timeout.count()) + " ms (" +
                              (cause.empty() ? error : cause) +
                              "): check --brokers, the network and the security settings (security.protocol, sasl.*, "
                              "ssl.*)"});
        return checks;
    }
    const int brokers = catalog->broker_count();
    checks.push_back({"brokers " + d.brokers, true,
                      std::to_string(brokers) + (brokers == 1 ? " broker" : " brokers") + " in the cluster"});
    checks.push_back(topic_check(*catalog, "input topic", d.input_topic, "--input-topic"));
    checks.push_back(topic_check(*catalog, "analytics topic", d.outputs.analytics, "--analytics-topic"));
    checks.push_back(topic_check(*catalog, "error tracking topic", d.outputs.error_tracking, "--error-tracking-topic"));
    checks.push_back(topic_check(*catalog, "heatmaps topic", d.outputs.heatmaps, "--heatmaps-topic"));
    checks.push_back(topic_check(*catalog, "dead-letter topic", d.outputs.dead_letter, "--dlq-topic"));
    if (!d.audit_topic.empty()) checks.push_back(topic_check(*catalog, "audit topic", d.audit_topic, "--audit-topic"));
    if (const std::vector<int32_t> partitions = catalog->partitions(d.input_topic); !partitions.empty()) {
        DependencyCheck group = group_offsets_check(client.get(), d, partitions);
        if (group.passed) describe_group(client.get(), d, group);
        checks.push_back(std::move(group));
    }
    // Never joined: destroyed without the close that leaves a group.
    rd_kafka_destroy_flags(client.release(), RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    return checks;
}

}  // namespace warden
