// The cluster kafka_bench measures against: librdkafka's mock cluster in this process, or an
// existing cluster (--brokers) on which the bench creates topics of its own and deletes them
// afterwards, since real brokers are run without auto-creation.
#pragma once

#include <warden/mock_cluster.hpp>

#include <memory>
#include <string>
#include <vector>

namespace kafka_bench {

class BenchCluster {
public:
    // The mock when `brokers` is empty. Topics on an existing cluster get a prefix unique to this
    // run, so that runs never meet each other's data.
    explicit BenchCluster(std::string brokers);
    // Deletes the topics created on an existing cluster.
    ~BenchCluster();
    BenchCluster(const BenchCluster&) = delete;
    BenchCluster& operator=(const BenchCluster&) = delete;

    bool is_mock() const { return mock_ != nullptr; }
    const std::string& bootstraps() const;
    // Prepended to every topic name: empty on the mock.
    const std::string& topic_prefix() const { return topic_prefix_; }

    // Creates `names` (prefix included) with `partitions` each and the brokers' default
    // replication factor; returns once the brokers list them. Throws std::runtime_error naming
    // what failed.
    void create_topics(const std::vector<std::string>& names, int partitions);

private:
    std::unique_ptr<warden::MockCluster> mock_;
    std::string brokers_;
    std::string topic_prefix_;
    std::vector<std::string> created_;
};

}  // namespace kafka_bench
