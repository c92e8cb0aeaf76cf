// Kafka side of the integration tests: the cluster, inputs, expectation, outputs, offsets.
#include "kafka_test_support.hpp"

#include "kafka_admin.hpp"

#include <warden/pipeline.hpp>
#include <warden/teams.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <unistd.h>
#include <unordered_map>

namespace itest {
namespace {

constexpr int request_timeout_ms = 5000;

// How long the tests' own queries (watermarks, committed offsets) are retried: on a loaded machine
// one request can time out, and a test must fail on what the worker did, not on a slow answer.
constexpr auto query_patience = 20s;

// Runs `query` until it returns no error or the patience is spent; returns its last error.
template <typename Query>
rd_kafka_resp_err_t query_patiently(Query query) {
    const auto deadline = Clock::now() + scaled(query_patience);
    for (;;) {
        const rd_kafka_resp_err_t err = query();
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR || Clock::now() >= deadline) return err;
        std::this_thread::sleep_for(100ms);
    }
}

warden::kafka::ClientPtr make_consumer(warden::KafkaProperties properties) {
    properties.insert(properties.begin(), {{"enable.auto.commit", "false"}, {"fetch.wait.max.ms", "10"}});
    warden::kafka::ClientPtr client =
        warden::kafka::make_client(RD_KAFKA_CONSUMER, warden::kafka::make_conf(properties));
    rd_kafka_poll_set_consumer(client.get());
    return client;
}

std::optional<std::string_view> bytes(const void* data, size_t size) {
    if (!data) return std::nullopt;
    return std::string_view(static_cast<const char*>(data), size);
}

std::vector<warden::HeaderView> headers_of(const rd_kafka_message_t& message) {
    std::vector<warden::HeaderView> out;
    rd_kafka_headers_t* headers = nullptr;
    if (rd_kafka_message_headers(&message, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR || !headers) return out;
    const char* name;
    const void* value;
    size_t size;
    for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
        out.push_back({name, bytes(value, size)});
    }
    return out;
}

bool has_secret_token(const std::optional<std::string_view>& key, const std::optional<std::string_view>& value,
                      const std::vector<warden::HeaderView>& headers) {
    auto leaks = [](const std::optional<std::string_view>& text) {
        return text && text->find("phs_") != std::string_view::npos;
    };
    if (leaks(key) || leaks(value)) return true;
    for (const warden::HeaderView& h : headers) {
        if (leaks(h.name) || leaks(h.value)) return true;
    }
    return false;
}

void append_field(std::string& out, std::optional<std::string_view> field) {
    if (!field) {
        out += "null\n";
        return;
    }
    out += std::to_string(field->size());
    out += ':';
    out.append(*field);
    out += '\n';
}

}  // namespace

std::optional<std::string> real_broker() {
    const char* address = std::getenv("WARDEN_TEST_KAFKA");
    if (!address || !*address) return std::nullopt;
    return std::string(address);
}

std::string offsets_text(const std::vector<int64_t>& offsets) {
    std::string text;
    for (int64_t offset : offsets) {
        if (!text.empty()) text += ',';
        text += std::to_string(offset);
    }
    return text;
}

namespace {

// Outputs outgrow inputs (enriched events, heatmap copies, duplicates after crashes) and the mock
// keeps only 5 MiB per partition; a real broker keeps everything, and fewer partitions start faster.
constexpr int mock_output_partitions = 16;
constexpr int real_output_partitions = 4;

// A prefix no other test cluster uses, on a broker that test processes share one after another.
std::string unique_topic_prefix() {
    static std::atomic<int> clusters{0};
    return "itest-" + std::to_string(::getpid()) + "-" + std::to_string(++clusters) + "-";
}

}  // namespace

TestCluster::TestCluster(int brokers) : teams_json_(warden::loadgen::teams_json(team_count)) {
    if (std::optional<std::string> real = real_broker()) {
        brokers_ = *real;
        topic_prefix_ = unique_topic_prefix();
        output_partitions_ = real_output_partitions;
    } else {
        mock_ = std::make_unique<warden::MockCluster>(brokers);
        brokers_ = mock_->bootstraps();
        output_partitions_ = mock_output_partitions;
    }
    const warden::TopicNames defaults;
    input_topic_ = topic_prefix_ + "events_plugin_ingestion";
    topics_ = {topic_prefix_ + defaults.analytics, topic_prefix_ + defaults.error_tracking,
               topic_prefix_ + defaults.heatmaps, topic_prefix_ + defaults.dead_letter};
    output_topics_ = {topics_.analytics, topics_.error_tracking, topics_.heatmaps, topics_.dead_letter};
    audit_topic_ = topic_prefix_ + std::string(warden::default_audit_topic);
    std::vector<TopicSpec> specs = {{input_topic_, input_partitions, {}}, {audit_topic_, 1, {}}};
    for (const std::string& topic : output_topics_) specs.push_back({topic, output_partitions_, {}});
    create_topics_now(specs);

    teams_path_ = dir_.path() / "teams.json";
    std::ofstream file(teams_path_);
    file << teams_json_;
    file.close();
    if (!file) throw std::runtime_error("cannot write " + teams_path_.string());
}

TestCluster::~TestCluster() {
    if (real() && !created_topics_.empty()) delete_topics(brokers_, created_topics_);
}

void TestCluster::create_topics_now(const std::vector<TopicSpec>& specs) {
    if (mock_) {
        for (const TopicSpec& spec : specs) mock_->create_topic(spec.name, spec.partitions);
        return;
    }
    std::vector<std::string> names;
    for (const TopicSpec& spec : specs) names.push_back(spec.name);
    try {
        create_topics(brokers_, specs);
    } catch (...) {
        delete_topics(brokers_, names);  // some may exist, and no destructor runs for a failed constructor
        throw;
    }
    created_topics_.insert(created_topics_.end(), names.begin(), names.end());
}

rd_kafka_mock_cluster_s* TestCluster::mock() const {
    if (!mock_) throw std::logic_error("fault injection needs the mock cluster: skip this case on the real broker");
    return mock_->handle();
}

std::vector<std::string> TestCluster::topic_flags(const std::string& input_flag) const {
    std::vector<std::string> flags = topic_flags_without_audit(input_flag);
    if (input_flag == "--input-topic") flags.insert(flags.end(), {"--audit-topic", audit_topic_});
    return flags;
}

std::vector<std::string> TestCluster::topic_flags_without_audit(const std::string& input_flag) const {
    return {input_flag,
            input_topic_,
            "--analytics-topic",
            topics_.analytics,
            "--error-tracking-topic",
            topics_.error_tracking,
            "--heatmaps-topic",
            topics_.heatmaps,
            "--dlq-topic",
            topics_.dead_letter};
}

std::string TestCluster::create_topic(const std::string& name, int partitions,
                                      const std::vector<std::pair<std::string, std::string>>& config) {
    const std::string topic = topic_prefix_ + name;
    create_topics_now({{topic, partitions, config}});
    return topic;
}

void TestCluster::set_leader(const std::string& topic, int partitions, int32_t broker_id) {
    for (int32_t p = 0; p < partitions; ++p) {
        if (rd_kafka_resp_err_t err = rd_kafka_mock_partition_set_leader(mock(), topic.c_str(), p, broker_id)) {
            throw std::runtime_error("cannot move the leader of " + topic + ": " + rd_kafka_err2str(err));
        }
    }
}

int members_per_worker() {
    const char* configured = std::getenv("WARDEN_TEST_THREADS");
    const int threads = configured ? std::atoi(configured) : 1;
    return threads > 0 ? threads : 1;
}

std::unique_ptr<ChildProcess> TestCluster::start_worker(const std::string& group, const std::string& name,
                                                        const std::vector<std::string>& extra,
                                                        const std::string& log_level) const {
    std::vector<std::string> argv = {warden_path, "run", "--brokers", brokers(), "--teams", teams_path_.string(),
                                     "--group", group,
                                     // An empty fetch waits this long even when data arrives.
                                     "--consumer-property", "fetch.wait.max.ms=10", "--log-level", log_level,
                                     // Loopback only, and a free port for each of several workers.
                                     "--metrics-address", "127.0.0.1:0"};
    if (mock_) {
        // The mock waits session.timeout.ms - 1 s per membership change.
        argv.insert(argv.end(), {"--consumer-property", "session.timeout.ms=6000"});
    } else {
        // Short but realistic: a killed member is noticed within 10 s.
        argv.insert(argv.end(), {"--consumer-property", "session.timeout.ms=10000", "--consumer-property",
                                 "heartbeat.interval.ms=1000"});
    }
    const std::vector<std::string> topics = topic_flags("--input-topic");
    argv.insert(argv.end(), topics.begin(), topics.end());
    // A test that sets --threads itself keeps its count.
    if (std::find(extra.begin(), extra.end(), "--threads") == extra.end()) {
        argv.insert(argv.end(), {"--threads", std::to_string(members_per_worker())});
    }
    argv.insert(argv.end(), extra.begin(), extra.end());
    return std::make_unique<ChildProcess>(argv, dir_.path() / name);
}

Corpus Corpus::generate(uint64_t seed, size_t count) {
    Corpus corpus;
    warden::loadgen::EventGenerator generator(seed, team_count);
    corpus.messages.reserve(count);
    for (size_t n = 0; n < count; ++n) corpus.messages.push_back(generator.next(n));
    corpus.placements.resize(count);
    return corpus;
}

InputProducer::InputProducer(const TestCluster& cluster, Corpus& corpus)
    : corpus_(corpus),
      producer_(cluster.brokers(), cluster.input_topic(), {{"enable.idempotence", "true"}},
                [this](uint64_t id, int32_t partition, int64_t offset) {
                    corpus_.placements[id] = {partition, offset};
                }) {}

void InputProducer::produce(size_t first, size_t last) {
    for (size_t i = first; i < last; ++i) {
        const warden::loadgen::GeneratedMessage& m = corpus_.messages[i];
        producer_.send(m.key, m.value, m.headers, i);
    }
}

bool InputProducer::flush(Clock::duration timeout) {
    return producer_.flush(std::chrono::duration_cast<std::chrono::milliseconds>(timeout));
}

PacedFeeder::PacedFeeder(InputProducer& producer, size_t first, size_t last, size_t chunk, Clock::duration pause)
    : producer_(producer), thread_([this, first, last, chunk, pause](std::stop_token stop) {
          for (size_t at = first; at < last && !stop.stop_requested(); at += chunk) {
              producer_.produce(at, std::min(at + chunk, last));
              queued_.store(std::min(at + chunk, last) - first);
              std::this_thread::sleep_for(pause);
          }
      }) {}

bool PacedFeeder::finish(Clock::duration timeout) {
    thread_.join();
    return producer_.flush(timeout);
}

std::string canonical_record(std::string_view topic, std::optional<std::string_view> key,
                             std::optional<std::string_view> value, const std::vector<warden::HeaderView>& headers) {
    std::string out(topic);
    out += '\n';
    append_field(out, key);
    append_field(out, value);
    for (const warden::HeaderView& h : headers) {
        if (h.name == "dlq_timestamp") continue;
        append_field(out, h.name);
        append_field(out, h.value);
    }
    return out;
}

std::map<std::string, size_t> count_by_topic(const std::vector<std::string>& records) {
    std::map<std::string, size_t> counts;
    for (const std::string& record : records) ++counts[record.substr(0, record.find('\n'))];
    return counts;
}

Expectation expect(const Corpus& corpus, const TestCluster& cluster) {
    auto store = warden::FileTeamStore::from_json(cluster.teams_json(), "generated teams");
    warden::TeamCache cache(*store);
    warden::BatchProcessor processor(cache, cluster.topics());
    Expectation expectation;
    expectation.destinations.resize(corpus.messages.size());
    constexpr size_t batch_size = 1000;
    for (size_t first = 0; first < corpus.messages.size(); first += batch_size) {
        const size_t count = std::min(batch_size, corpus.messages.size() - first);
        std::vector<std::vector<warden::HeaderView>> headers(count);
        for (size_t i = 0; i < count; ++i) {
            for (const auto& [name, value] : corpus.messages[first + i].headers) headers[i].push_back({name, value});
        }
        std::vector<warden::MessageView> views(count);
        for (size_t i = 0; i < count; ++i) {
            const warden::loadgen::GeneratedMessage& m = corpus.messages[first + i];
            views[i].topic = cluster.input_topic();
            views[i].partition = corpus.placements[first + i].partition;
            views[i].offset = corpus.placements[first + i].offset;
            views[i].key = m.key;
            views[i].value = m.value;
            views[i].headers = headers[i];
        }
        warden::BatchResult result;
        if (processor.process(views, result) != warden::BatchProcessor::Status::done) {
            throw std::runtime_error("the file team store cannot be unavailable");
        }
        for (size_t i = 0; i < count; ++i) {
            const warden::MessageOutcome& outcome = result.outcomes[i];
            for (uint32_t r = outcome.first_record; r < outcome.first_record + outcome.record_count; ++r) {
                const warden::OutputRecord& record = result.records[r];
                expectation.records.push_back(canonical_record(processor.topics().name_of(record.destination),
                                                               record.key, record.value, record.headers.views()));
                expectation.destinations[first + i].push_back(record.destination);
            }
        }
    }
    return expectation;
}

Outputs read_outputs(const TestCluster& cluster) {
    Outputs outputs;
    // Read committed, and to the end of each partition as the consumer reports it: aborted
    // transactions and commit markers take offsets no message is read at.
    warden::kafka::ClientPtr consumer = make_consumer({{"bootstrap.servers", cluster.brokers()},
                                                       {"group.id", "itest-reader"},
                                                       {"isolation.level", "read_committed"},
                                                       {"enable.partition.eof", "true"}});
    warden::kafka::PartitionListPtr assignment = warden::kafka::make_partition_list(cluster.output_partitions() * 4);
    std::map<std::pair<std::string, int32_t>, int64_t> ends;
    for (const std::string& topic : cluster.output_topics()) {
        for (int32_t p = 0; p < cluster.output_partitions(); ++p) {
            int64_t low = 0, high = 0;
            const rd_kafka_resp_err_t err = query_patiently([&] {
                return rd_kafka_query_watermark_offsets(consumer.get(), topic.c_str(), p, &low, &high,
                                                        request_timeout_ms);
            });
            if (err || low != 0) {
                outputs.complete = false;  // unreadable, or retention dropped records
            }
            if (high <= low) continue;
            ends[{topic, p}] = high;
            rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
        }
    }
    rd_kafka_assign(consumer.get(), assignment.get());
    const auto deadline = Clock::now() + 60s;
    while (!ends.empty() && Clock::now() < deadline) {
        warden::kafka::MessagePtr message(rd_kafka_consumer_poll(consumer.get(), 100));
        if (!message) continue;
        const std::string topic = rd_kafka_topic_name(message->rkt);
        const auto end = ends.find({topic, message->partition});
        if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (end != ends.end() && message->offset >= end->second) ends.erase(end);
            continue;
        }
        if (message->err || end == ends.end() || message->offset >= end->second) continue;
        const auto key = bytes(message->key, message->key_len);
        const auto value = bytes(message->payload, message->len);
        const std::vector<warden::HeaderView> headers = headers_of(*message);
        if (topic != cluster.topics().dead_letter && has_secret_token(key, value, headers)) ++outputs.secret_leaks;
        outputs.records.push_back(canonical_record(topic, key, value, headers));
    }
    if (!ends.empty()) outputs.complete = false;
    return outputs;
}

std::string find_in_topic(const TestCluster& cluster, const std::string& topic, int partitions,
                          std::string_view needle) {
    std::string found;
    for_each_value(cluster, topic, partitions, "read_uncommitted",
                   [&](int32_t partition, int64_t offset, std::string_view value) {
                       if (value.find(needle) == std::string_view::npos) return;
                       found += "partition " + std::to_string(partition) + " offset " + std::to_string(offset) + "; ";
                   });
    return found;
}

std::vector<std::string> topic_values(const TestCluster& cluster, const std::string& topic, int partitions) {
    std::vector<std::string> values;
    for_each_value(cluster, topic, partitions, "read_committed",
                   [&](int32_t, int64_t, std::string_view value) { values.emplace_back(value); });
    return values;
}

void for_each_value(const TestCluster& cluster, const std::string& topic, int partitions, const std::string& isolation,
                    const std::function<void(int32_t, int64_t, std::string_view)>& visit) {
    // read_uncommitted finds a record hidden by an open transaction too.
    warden::kafka::ClientPtr consumer = make_consumer({{"bootstrap.servers", cluster.brokers()},
                                                       {"group.id", "itest-search"},
                                                       {"isolation.level", isolation},
                                                       {"enable.partition.eof", "true"}});
    warden::kafka::PartitionListPtr assignment = warden::kafka::make_partition_list(partitions);
    std::map<int32_t, int64_t> ends;
    for (int32_t p = 0; p < partitions; ++p) {
        int64_t low = 0, high = 0;
        if (query_patiently([&] {
                return rd_kafka_query_watermark_offsets(consumer.get(), topic.c_str(), p, &low, &high,
                                                        request_timeout_ms);
            }) ||
            high <= low) {
            continue;
        }
        ends[p] = high;
        rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_assign(consumer.get(), assignment.get());
    const auto deadline = Clock::now() + 60s;
    while (!ends.empty() && Clock::now() < deadline) {
        warden::kafka::MessagePtr message(rd_kafka_consumer_poll(consumer.get(), 100));
        if (!message) continue;
        const auto end = ends.find(message->partition);
        if (end == ends.end()) continue;
        // With read_committed, commit markers take the last offsets: the end of a partition is its EOF.
        if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) ends.erase(end);
        if (message->err) continue;
        visit(message->partition, message->offset,
              std::string_view(static_cast<const char*>(message->payload), message->len));
        if (message->offset + 1 >= end->second) ends.erase(end);
    }
}

std::string find_input(const TestCluster& cluster, std::string_view needle) {
    const std::string found = find_in_topic(cluster, cluster.input_topic(), input_partitions, needle);
    return found.empty() ? "not in the input topic" : found;
}

Comparison compare(const std::vector<std::string>& expected, const std::vector<std::string>& actual) {
    std::unordered_map<std::string_view, int64_t> balance;  // expected copies minus actual copies
    for (const std::string& record : expected) ++balance[record];
    Comparison result;
    for (const std::string& record : actual) {
        auto it = balance.find(record);
        if (it == balance.end()) {
            ++result.unexpected;
        } else if (--it->second < 0) {
            ++result.duplicates;
        }
    }
    for (const auto& [record, missing] : balance) {
        if (missing <= 0) continue;
        result.lost += static_cast<size_t>(missing);
        if (result.lost_examples.size() < 3) result.lost_examples.emplace_back(record);
    }
    return result;
}

GroupOffsets::GroupOffsets(const TestCluster& cluster, const std::string& group)
    : topic_(cluster.input_topic()),
      client_(make_consumer({{"bootstrap.servers", cluster.brokers()}, {"group.id", group}})) {}

std::vector<int64_t> GroupOffsets::committed() {
    std::vector<int64_t> offsets(input_partitions, 0);
    const rd_kafka_resp_err_t err = query_patiently([&] {
        warden::kafka::PartitionListPtr list = warden::kafka::make_partition_list(input_partitions);
        for (int32_t p = 0; p < input_partitions; ++p) rd_kafka_topic_partition_list_add(list.get(), topic_.c_str(), p);
        if (const rd_kafka_resp_err_t request_err = rd_kafka_committed(client_.get(), list.get(), request_timeout_ms))
            return request_err;
        for (int i = 0; i < list->cnt; ++i) {
            const rd_kafka_topic_partition_t& p = list->elems[i];
            if (p.err) return p.err;
            offsets[static_cast<size_t>(p.partition)] = std::max<int64_t>(p.offset, 0);
        }
        return RD_KAFKA_RESP_ERR_NO_ERROR;
    });
    if (err) return {};
    return offsets;
}

std::vector<int64_t> GroupOffsets::end_offsets() {
    std::vector<int64_t> ends(input_partitions);
    for (int32_t p = 0; p < input_partitions; ++p) {
        int64_t low = 0;
        const rd_kafka_resp_err_t err = query_patiently([&] {
            return rd_kafka_query_watermark_offsets(client_.get(), topic_.c_str(), p, &low,
                                                    &ends[static_cast<size_t>(p)], request_timeout_ms);
        });
        if (err) return {};
    }
    return ends;
}

bool GroupOffsets::wait_all_committed(Clock::duration timeout) {
    return wait_until(
        [&] {
            const std::vector<int64_t> committed_offsets = committed();
            const std::vector<int64_t> ends = end_offsets();
            if (committed_offsets.empty() || ends.empty()) return false;
            for (size_t p = 0; p < ends.size(); ++p) {
                if (committed_offsets[p] != ends[p]) return false;
            }
            return true;
        },
        timeout, 200ms);
}

}  // namespace itest
