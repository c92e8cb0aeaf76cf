// Support of the Kafka integration tests: `warden run` as a child process, a cluster with warden's
// topics (librdkafka's mock cluster, or a real broker when WARDEN_TEST_KAFKA names one), generated
// inputs and where they landed, the offline expectation of their outputs, and readers of output
// topics and committed group offsets.
#pragma once

#include "kafka_admin.hpp"

#include <warden/capture_producer.hpp>
#include <warden/kafka_handles.hpp>

#include <warden/loadgen.hpp>
#include <warden/mock_cluster.hpp>
#include <warden/worker.hpp>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <thread>
#include <vector>

namespace itest {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// The `warden` executable under test; set by main from the first argument.
extern std::string warden_path;

inline constexpr int input_partitions = 8;
inline constexpr int team_count = 50;

// The bootstrap address of the real broker the tests run against (WARDEN_TEST_KAFKA), or nothing
// when they run against librdkafka's mock cluster.
std::optional<std::string> real_broker();

// "a,b,c", for failure messages.
std::string offsets_text(const std::vector<int64_t>& offsets);

// `bound` stretched by WARDEN_TEST_SLOWDOWN (the sanitizer runs set it): how long the tests wait
// for something to happen. Bounds the code is held to are checked unscaled in the release run.
Clock::duration scaled(Clock::duration bound);

// Members of the group in each worker process start_worker() starts (`run --threads`): the
// suites run once with 1 and once with several, from WARDEN_TEST_THREADS (meson.build); 1 unset.
int members_per_worker();

// Polls `done` until it holds or `timeout` (scaled) passes; returns whether it held.

bool wait_until(const std::function<bool()>& done, Clock::duration timeout, Clock::duration interval = 50ms);

// A fresh directory under the system temp directory, removed with everything in it.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

// A child process whose stdout and stderr go to files. A child still running when this is
// destroyed is killed, so a failed assertion never leaves a worker behind.
class ChildProcess {
public:
    ChildProcess(const std::vector<std::string>& argv, const std::filesystem::path& output_prefix);
    ~ChildProcess();
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    void send(int signal);
    // The exit code (128 + signal number when a signal ended it), once it ended within `timeout`.
    std::optional<int> wait_exit(Clock::duration timeout);
    bool wait_for_stderr(std::string_view text, Clock::duration timeout) const;
    std::string stdout_text() const;
    std::string stderr_text() const;
    // The last `lines` lines of stderr, for failure messages.
    std::string stderr_tail(size_t lines = 20) const;

private:
    pid_t pid_ = -1;
    std::optional<int> exit_code_;
    std::filesystem::path stdout_path_;
    std::filesystem::path stderr_path_;
};

// Waits until the worker (run with --log-level info) logged an assignment of at least one partition.
bool wait_for_assignment(const ChildProcess& worker, Clock::duration timeout);

// The "consumed" figure of the summary JSON a worker prints last on stdout, or -1 without one.
int64_t summary_consumed(const std::string& stdout_text);

// The cluster a test case runs against, with the input and output topics created before any
// client connects, and the generated teams file. Two backends: librdkafka's mock cluster (the
// default; topics with warden's default names, fault injection through mock()), or the real broker
// of WARDEN_TEST_KAFKA, shared by many test cases, where each cluster creates topics of its own
// under a unique prefix and deletes them when destroyed.
class TestCluster {
public:
    // `brokers` is the mock cluster's broker count; the real backend has the broker it is given.
    explicit TestCluster(int brokers = 1);
    ~TestCluster();
    TestCluster(const TestCluster&) = delete;
    TestCluster& operator=(const TestCluster&) = delete;

    bool real() const { return !mock_; }
    const std::string& brokers() const { return brokers_; }
    // The mock cluster, for fault injection; throws on the real backend (skip such test cases
    // there with skipped_on_real_broker()).
    rd_kafka_mock_cluster_s* mock() const;
    const std::string& teams_json() const { return teams_json_; }
    const std::filesystem::path& dir() const { return dir_.path(); }

    const std::string& input_topic() const { return input_topic_; }
    const warden::TopicNames& topics() const { return topics_; }  // the output topics
    // Analytics, error tracking, heatmaps, dead letters.
    const std::vector<std::string>& output_topics() const { return output_topics_; }
    int output_partitions() const { return output_partitions_; }
    // The security audit topic (1 partition).
    const std::string& audit_topic() const { return audit_topic_; }
    // The topic flags of this cluster's topics, the input as `input_flag` (--input-topic for
    // `run` and `check`, with --audit-topic; --topic for `replay`, which writes no audit trail).
    std::vector<std::string> topic_flags(const std::string& input_flag) const;

    // Creates another topic, before clients use it, and returns its name: `name` on the mock,
    // prefixed like the cluster's own on the real broker. `config` (topic configs such as
    // max.message.bytes) is for the real broker only.
    std::string create_topic(const std::string& name, int partitions,
                             const std::vector<std::pair<std::string, std::string>>& config = {});

    // Leads every partition of `topic` from `broker_id`; call before clients connect. Mock only.
    void set_leader(const std::string& topic, int partitions, int32_t broker_id);

    // Starts `warden run` in `group` with the test settings, members_per_worker() threads (unless
    // `extra` sets --threads) and this cluster's topics, then `extra` flags (later flags win). `name` names its output
    // files.
    std::unique_ptr<ChildProcess> start_worker(const std::string& group, const std::string& name,
                                               const std::vector<std::string>& extra = {},
                                               const std::string& log_level = "warn") const;

private:
    void create_topics_now(const std::vector<TopicSpec>& specs);

    std::unique_ptr<warden::MockCluster> mock_;
    std::string brokers_;
    std::string topic_prefix_;  // "" on the mock
    std::string input_topic_;
    warden::TopicNames topics_;
    std::vector<std::string> output_topics_;
    std::string audit_topic_;
    std::vector<std::string> topic_flags_without_audit(const std::string& input_flag) const;
    int output_partitions_ = 0;
    std::vector<std::string> created_topics_;  // deleted with the cluster on the real broker
    TempDir dir_;
    std::string teams_json_;
    std::filesystem::path teams_path_;
};

// Where a produced input landed.
struct Placement {
    int32_t partition = -1;
    int64_t offset = -1;
};

// Generated inputs (message n carries a uuid unique to n) and, once produced, their placement.
struct Corpus {
    std::vector<warden::loadgen::GeneratedMessage> messages;
    std::vector<Placement> placements;

    static Corpus generate(uint64_t seed, size_t count);
};

// Produces corpus messages to the input topic with an idempotent producer, so a retry cannot
// duplicate an input, and records each placement from its delivery report.
class InputProducer {
public:
    InputProducer(const TestCluster& cluster, Corpus& corpus);
    // Queues messages [first, last) of the corpus.
    void produce(size_t first, size_t last);
    // Waits for every delivery report; true when all were delivered within `timeout`.
    bool flush(Clock::duration timeout);

private:
    Corpus& corpus_;
    warden::CaptureProducer producer_;
};

// Produces corpus messages [first, last) in chunks at a steady pace on a thread of its own, so a
// worker is busy while a test kills it or injects faults. Stops early and joins when destroyed.
class PacedFeeder {
public:
    PacedFeeder(InputProducer& producer, size_t first, size_t last, size_t chunk, Clock::duration pause);
    // Waits for the thread, then for every delivery report; true when all were delivered.
    bool finish(Clock::duration timeout);
    // Messages queued so far.
    size_t queued() const { return queued_.load(); }

private:
    InputProducer& producer_;
    std::atomic<size_t> queued_{0};
    std::jthread thread_;
};

// What the worker should have produced, computed offline with the same core.
struct Expectation {
    std::vector<std::string> records;                            // canonical form, see canonical_record()
    std::vector<std::vector<warden::Destination>> destinations;  // per corpus message
};
Expectation expect(const Corpus& corpus, const TestCluster& cluster);

// An output as compared: topic, key, value and headers, without the dead-letter timestamp (the
// wall clock at processing time). Starts with the topic name and a newline.
std::string canonical_record(std::string_view topic, std::optional<std::string_view> key,
                             std::optional<std::string_view> value, const std::vector<warden::HeaderView>& headers);
std::map<std::string, size_t> count_by_topic(const std::vector<std::string>& records);

struct Outputs {
    std::vector<std::string> records;  // canonical form
    size_t secret_leaks = 0;           // non-DLQ records with a `phs_` token in key, value or a header
    bool complete = true;              // false when retention dropped data or the read timed out
};
// Reads every output topic of the cluster from its beginning to its end.
Outputs read_outputs(const TestCluster& cluster);

// Where `topic`, of `partitions` partitions, holds a record whose value contains `needle` (committed
// or not): "partition P offset O; ...", or "" when none does.
std::string find_in_topic(const TestCluster& cluster, const std::string& topic, int partitions,
                          std::string_view needle);

// The values of `topic`'s committed records, from its beginning to its end.
std::vector<std::string> topic_values(const TestCluster& cluster, const std::string& topic, int partitions);
// Calls `visit` with each record of `topic` read with `isolation` (read_committed or read_uncommitted).
void for_each_value(const TestCluster& cluster, const std::string& topic, int partitions, const std::string& isolation,
                    const std::function<void(int32_t, int64_t, std::string_view)>& visit);

// Where the input topic holds a message whose value contains `needle` ("partition P offset O; ..."),
// or "not in the input topic": for failure messages about a lost output.
std::string find_input(const TestCluster& cluster, std::string_view needle);

struct Comparison {
    size_t lost = 0;                         // expected outputs missing
    size_t duplicates = 0;                   // extra copies of expected outputs
    size_t unexpected = 0;                   // outputs nothing should have produced
    std::vector<std::string> lost_examples;  // the first few lost outputs, for the failure message
};
Comparison compare(const std::vector<std::string>& expected, const std::vector<std::string>& actual);

// Committed offsets of a consumer group on the cluster's input topic, read with a client of its
// own that never joins the group.
class GroupOffsets {
public:
    GroupOffsets(const TestCluster& cluster, const std::string& group);
    // Per input partition; 0 when nothing is committed (the group starts from the beginning).
    // Empty when the read kept failing (queries are retried for a while).
    std::vector<int64_t> committed();
    // Per input partition: the high watermark. Empty when the read kept failing.
    std::vector<int64_t> end_offsets();
    // Polls until every partition's committed offset is its end offset.
    bool wait_all_committed(Clock::duration timeout);

private:
    std::string topic_;
    warden::kafka::ClientPtr client_;
};

}  // namespace itest
