#include "kafka_bench_cluster.hpp"

#include <warden/kafka_handles.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <thread>
#include <utility>

#include <unistd.h>

namespace kafka_bench {
namespace {

namespace kafka = warden::kafka;

constexpr int admin_timeout_ms = 30'000;

kafka::ClientPtr admin_client(const std::string& brokers) {
    return kafka::make_client(RD_KAFKA_PRODUCER, kafka::make_conf({{"bootstrap.servers", brokers}}));
}

kafka::AdminOptionsPtr admin_options(rd_kafka_t* client, rd_kafka_admin_op_t operation) {
    kafka::AdminOptionsPtr options(rd_kafka_AdminOptions_new(client, operation));
    char error[256];
    if (rd_kafka_AdminOptions_set_operation_timeout(options.get(), admin_timeout_ms, error, sizeof error)) {
        throw std::runtime_error(std::string("admin options: ") + error);
    }
    return options;
}

// Waits for the result of a CreateTopics or DeleteTopics request; returns its errors and those of
// each topic, or an empty text when everything succeeded.
std::string admin_errors(rd_kafka_queue_t* queue) {
    const kafka::EventPtr event(rd_kafka_queue_poll(queue, admin_timeout_ms + 5'000));
    if (!event) return "no answer within " + std::to_string(admin_timeout_ms / 1000) + " s";
    if (rd_kafka_event_error(event.get())) return rd_kafka_event_error_string(event.get());
    size_t count = 0;
    const rd_kafka_topic_result_t** results = nullptr;
    if (const auto* created = rd_kafka_event_CreateTopics_result(event.get())) {
        results = rd_kafka_CreateTopics_result_topics(created, &count);
    } else if (const auto* deleted = rd_kafka_event_DeleteTopics_result(event.get())) {
        results = rd_kafka_DeleteTopics_result_topics(deleted, &count);
    }
    std::string errors;
    for (size_t i = 0; i < count; ++i) {
        if (!rd_kafka_topic_result_error(results[i])) continue;
        errors += (errors.empty() ? "" : "; ") + std::string(rd_kafka_topic_result_name(results[i])) + ": " +
                  rd_kafka_topic_result_error_string(results[i]);
    }
    return errors;
}

// Whether the broker answering metadata lists every one of `topics`.
bool all_listed(rd_kafka_t* client, const std::vector<std::string>& topics) {
    const rd_kafka_metadata_t* raw = nullptr;
    if (rd_kafka_metadata(client, 1, nullptr, &raw, 5'000)) return false;
    const kafka::MetadataPtr metadata(raw);
    return std::all_of(topics.begin(), topics.end(), [&](const std::string& name) {
        for (int t = 0; t < metadata->topic_cnt; ++t) {
            if (name == metadata->topics[t].topic && !metadata->topics[t].err) return true;
        }
        return false;
    });
}

}  // namespace

BenchCluster::BenchCluster(std::string brokers) : brokers_(std::move(brokers)) {
    if (brokers_.empty()) {
        mock_ = std::make_unique<warden::MockCluster>();
        return;
    }
    topic_prefix_ = "kafka_bench_" + std::to_string(kafka::wall_clock_ms()) + "_" + std::to_string(getpid()) + "_";
}

BenchCluster::~BenchCluster() {
    if (created_.empty()) return;
    try {
        const kafka::ClientPtr client = admin_client(brokers_);
        std::vector<kafka::DeleteTopicPtr> topics;
        std::vector<rd_kafka_DeleteTopic_t*> request;
        for (const std::string& name : created_) {
            topics.emplace_back(rd_kafka_DeleteTopic_new(name.c_str()));
            request.push_back(topics.back().get());
        }
        const kafka::AdminOptionsPtr options = admin_options(client.get(), RD_KAFKA_ADMIN_OP_DELETETOPICS);
        const kafka::QueuePtr queue(rd_kafka_queue_new(client.get()));
        rd_kafka_DeleteTopics(client.get(), request.data(), request.size(), options.get(), queue.get());
        if (const std::string errors = admin_errors(queue.get()); !errors.empty()) {
            std::fprintf(stderr, "kafka_bench: delete the topics %s* by hand: %s\n", topic_prefix_.c_str(),
                         errors.c_str());
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "kafka_bench: delete the topics %s* by hand: %s\n", topic_prefix_.c_str(), e.what());
    }
}

const std::string& BenchCluster::bootstraps() const { return mock_ ? mock_->bootstraps() : brokers_; }

void BenchCluster::create_topics(const std::vector<std::string>& names, int partitions) {
    if (mock_) {
        for (const std::string& name : names) mock_->create_topic(name, partitions);
        return;
    }
    const kafka::ClientPtr client = admin_client(brokers_);
    std::vector<kafka::NewTopicPtr> topics;
    std::vector<rd_kafka_NewTopic_t*> request;
    for (const std::string& name : names) {
        char error[256];
        // -1: the brokers' default replication factor.
        topics.emplace_back(rd_kafka_NewTopic_new(name.c_str(), partitions, -1, error, sizeof error));
        if (!topics.back()) throw std::runtime_error("topic " + name + ": " + error);
        request.push_back(topics.back().get());
    }
    const kafka::AdminOptionsPtr options = admin_options(client.get(), RD_KAFKA_ADMIN_OP_CREATETOPICS);
    const kafka::QueuePtr queue(rd_kafka_queue_new(client.get()));
    rd_kafka_CreateTopics(client.get(), request.data(), request.size(), options.get(), queue.get());
    // Deleted afterwards whatever the outcome: a request that partly failed created some.
    created_.insert(created_.end(), names.begin(), names.end());
    if (const std::string errors = admin_errors(queue.get()); !errors.empty()) {
        throw std::runtime_error("cannot create the bench's topics on " + brokers_ + ": " + errors);
    }
    // The controller has them; the brokers learn of them a moment later, and the worker refuses
    // to start without its topics.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!all_listed(client.get(), names)) {
        if (std::chrono::steady_clock::now() > deadline)
            throw std::runtime_error("the brokers at " + brokers_ + " do not list the bench's new topics");
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
}

}  // namespace kafka_bench
