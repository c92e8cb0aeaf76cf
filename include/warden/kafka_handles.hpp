// RAII ownership of librdkafka's C handles and the configuration builder shared by every client.
#pragma once

#include <warden/kafka_properties.hpp>

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace warden::kafka {

struct KafkaDeleter {
    void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
    void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
    void operator()(rd_kafka_topic_t* rkt) const { rd_kafka_topic_destroy(rkt); }
    void operator()(rd_kafka_topic_partition_list_t* list) const { rd_kafka_topic_partition_list_destroy(list); }
    void operator()(rd_kafka_message_t* message) const { rd_kafka_message_destroy(message); }
    void operator()(rd_kafka_headers_t* headers) const { rd_kafka_headers_destroy(headers); }
    void operator()(rd_kafka_error_t* error) const { rd_kafka_error_destroy(error); }
    void operator()(rd_kafka_queue_t* queue) const { rd_kafka_queue_destroy(queue); }
    void operator()(const rd_kafka_metadata_t* metadata) const { rd_kafka_metadata_destroy(metadata); }
    void operator()(rd_kafka_event_t* event) const { rd_kafka_event_destroy(event); }
    void operator()(rd_kafka_consumer_group_metadata_t* group) const {
        rd_kafka_consumer_group_metadata_destroy(group);
    }
    void operator()(rd_kafka_AdminOptions_t* options) const { rd_kafka_AdminOptions_destroy(options); }
    void operator()(rd_kafka_NewTopic_t* topic) const { rd_kafka_NewTopic_destroy(topic); }
    void operator()(rd_kafka_DeleteTopic_t* topic) const { rd_kafka_DeleteTopic_destroy(topic); }
};

using ClientPtr = std::unique_ptr<rd_kafka_t, KafkaDeleter>;
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, KafkaDeleter>;
using TopicPtr = std::unique_ptr<rd_kafka_topic_t, KafkaDeleter>;
using PartitionListPtr = std::unique_ptr<rd_kafka_topic_partition_list_t, KafkaDeleter>;
using MessagePtr = std::unique_ptr<rd_kafka_message_t, KafkaDeleter>;
using HeadersPtr = std::unique_ptr<rd_kafka_headers_t, KafkaDeleter>;
using ErrorPtr = std::unique_ptr<rd_kafka_error_t, KafkaDeleter>;
using QueuePtr = std::unique_ptr<rd_kafka_queue_t, KafkaDeleter>;
using MetadataPtr = std::unique_ptr<const rd_kafka_metadata_t, KafkaDeleter>;
using EventPtr = std::unique_ptr<rd_kafka_event_t, KafkaDeleter>;
using GroupMetadataPtr = std::unique_ptr<rd_kafka_consumer_group_metadata_t, KafkaDeleter>;
using AdminOptionsPtr = std::unique_ptr<rd_kafka_AdminOptions_t, KafkaDeleter>;
using NewTopicPtr = std::unique_ptr<rd_kafka_NewTopic_t, KafkaDeleter>;
using DeleteTopicPtr = std::unique_ptr<rd_kafka_DeleteTopic_t, KafkaDeleter>;

// A configuration with `properties` applied in order, and librdkafka's log lines routed to
// warden's JSON log. Throws std::runtime_error naming the property librdkafka refused.
ConfPtr make_conf(const KafkaProperties& properties);

// Creates the client; takes the configuration on success. Throws std::runtime_error with
// librdkafka's reason, every value the configuration sets taken out of it.
ClientPtr make_client(rd_kafka_type_t type, ConfPtr conf);

PartitionListPtr make_partition_list(int size);

// Runs `work` on a thread of its own and waits at most `limit` for it. True when it finished;
// otherwise it is left running (detached), for teardown steps that may never end.
bool finish_within(std::chrono::milliseconds limit, std::function<void()> work);

// Destroys the consumer of a worker that failed (a fatal client error, a fenced producer)
// without leaving its group, so that nothing more is committed. librdkafka 2.0 may wait for
// ever there (a broker thread of the unclosed group never ends): after `limit` the consumer is
// left to the process's exit, so the failure is still reported. False when it was left.
bool abandon_consumer(ClientPtr consumer, std::chrono::milliseconds limit);

// Keeps the client, undestroyed, until the process exits: for a client whose destruction would
// abort the process (a librdkafka bug; see the worker). Its threads keep running until then.
void keep_until_exit(ClientPtr client);

// Milliseconds since the epoch.
int64_t wall_clock_ms();

}  // namespace warden::kafka
