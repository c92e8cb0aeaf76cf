// mock_cluster: librdkafka's in-process mock cluster.
#pragma once

#include <memory>
#include <string>

struct rd_kafka_mock_cluster_s;

namespace warden {

// librdkafka's in-process mock cluster: real Kafka protocol on loopback, for the demo, tests and
// benchmarks. Not a broker for production.
class MockCluster {
public:
    // Throws std::runtime_error when the cluster cannot be started.
    explicit MockCluster(int brokers = 1);
    ~MockCluster();
    MockCluster(const MockCluster&) = delete;
    MockCluster& operator=(const MockCluster&) = delete;

    // The bootstrap address list, usable by any Kafka client on this machine.
    const std::string& bootstraps() const { return bootstraps_; }
    // Create topics before clients use them: auto-created topics get 4 partitions and stall the
    // first produce.
    void create_topic(const std::string& name, int partitions);
    // For fault injection with rdkafka_mock.h.
    rd_kafka_mock_cluster_s* handle() const { return cluster_; }

private:
    struct Client;
    std::unique_ptr<Client> client_;
    rd_kafka_mock_cluster_s* cluster_ = nullptr;
    std::string bootstraps_;
};

}  // namespace warden
