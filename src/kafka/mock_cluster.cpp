#include <warden/kafka_handles.hpp>

#include <warden/mock_cluster.hpp>

#include <librdkafka/rdkafka_mock.h>

#include <stdexcept>

namespace warden {

// The mock cluster lives inside a client handle of its own.
struct MockCluster::Client {
    kafka::ClientPtr handle;
};

MockCluster::MockCluster(int brokers) : client_(std::make_unique<Client>()) {
    if (brokers < 1) throw std::runtime_error("a mock cluster needs at least one broker");
    // The hosting client never connects anywhere; it only carries the mock cluster's threads
    // (so its "no bootstrap.servers" warning is silenced).
    client_->handle = kafka::make_client(RD_KAFKA_PRODUCER, kafka::make_conf({{"log_level", "3"}}));
    cluster_ = rd_kafka_mock_cluster_new(client_->handle.get(), brokers);
    if (!cluster_) throw std::runtime_error("cannot start the mock Kafka cluster");
    bootstraps_ = rd_kafka_mock_cluster_bootstraps(cluster_);
}

MockCluster::~MockCluster() {
    if (cluster_) rd_kafka_mock_cluster_destroy(cluster_);
}

void MockCluster::create_topic(const std::string& name, int partitions) {
    if (rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(cluster_, name.c_str(), partitions, 1)) {
        throw std::runtime_error("cannot create mock topic " + name + ": " + rd_kafka_err2str(err));
    }
}

}  // namespace warden
