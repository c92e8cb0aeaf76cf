#include "kafka_bench_modes.hpp"

#include <warden/files.hpp>
#include <warden/kafka_handles.hpp>
#include <warden/kafka_properties.hpp>
#include <warden/loadgen.hpp>
#include <warden/offset_tracker.hpp>
#include <warden/teams.hpp>
#include <warden/worker.hpp>
#include <warden/worker_threads.hpp>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <thread>

namespace kafka_bench {
namespace {

namespace kafka = warden::kafka;
using warden::KafkaProperties;

// warden::WorkerOptions::max_in_flight: the passthrough holds consumption at the same cap.
constexpr uint64_t max_in_flight = 100'000;

// What the worker runs with; the passthrough fetches, commits and produces with the same settings.
warden::WorkerOptions worker_settings(const Options& o) {
    const BenchTopics topics(o.topic_prefix);
    warden::WorkerOptions worker;
    worker.brokers = o.brokers;
    worker.group = o.group;
    worker.input_topic = topics.input;
    worker.topics = topics.outputs;
    worker.consumer_properties = o.consumer_properties;
    worker.producer_properties = o.producer_properties;
    if (o.exactly_once) {
        worker.guarantee = warden::ProcessingGuarantee::exactly_once;
        worker.transactional_id = o.group;
    }
    return worker;
}

KafkaProperties consumer_settings(const Options& o) { return warden::worker_consumer_properties(worker_settings(o)); }

KafkaProperties producer_settings(const Options& o) { return warden::worker_producer_properties(worker_settings(o)); }

// A copy's opaque is its input's partition and offset packed into the pointer, so an
// acknowledgement needs no lookup table.
static_assert(sizeof(void*) == 8, "the source packing needs 64-bit pointers");
constexpr int offset_bits = 48;
void* pack_source(int32_t partition, int64_t offset) {
    return reinterpret_cast<void*>(static_cast<uint64_t>(partition) << offset_bits | static_cast<uint64_t>(offset));
}

struct PassthroughState {
    warden::OffsetTracker tracker;
    uint64_t acknowledged = 0;
    uint64_t delivery_errors = 0;
};

void on_passthrough_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
    auto& state = *static_cast<PassthroughState*>(opaque);
    if (message->err) {
        ++state.delivery_errors;  // never acknowledged, so its offset is never stored
        return;
    }
    const auto packed = reinterpret_cast<uint64_t>(message->_private);
    state.tracker.acknowledge(static_cast<int32_t>(packed >> offset_bits),
                              static_cast<int64_t>(packed & ((uint64_t{1} << offset_bits) - 1)));
    ++state.acknowledged;
}

void subscribe(rd_kafka_t* consumer, const std::string& input_topic) {
    kafka::PartitionListPtr topics = kafka::make_partition_list(1);
    rd_kafka_topic_partition_list_add(topics.get(), input_topic.c_str(), RD_KAFKA_PARTITION_UA);
    if (rd_kafka_resp_err_t err = rd_kafka_subscribe(consumer, topics.get())) {
        throw std::runtime_error(std::string("subscribe: ") + rd_kafka_err2str(err));
    }
}

// Hands librdkafka the acknowledged prefix of each partition, as the worker does.
void store_offsets(rd_kafka_t* consumer, const std::string& input_topic, warden::OffsetTracker& tracker,
                   const std::vector<int32_t>& partitions) {
    kafka::PartitionListPtr offsets;
    for (int32_t partition : partitions) {
        if (std::optional<int64_t> next = tracker.take_commit(partition)) {
            if (!offsets) offsets = kafka::make_partition_list(static_cast<int>(partitions.size()));
            rd_kafka_topic_partition_list_add(offsets.get(), input_topic.c_str(), partition)->offset = *next;
        }
    }
    if (offsets) rd_kafka_offsets_store(consumer, offsets.get());
}

struct Deadline {
    int64_t start_ns;
    double seconds;
    void check(const char* mode) const {
        if (seconds_since(start_ns) > seconds) {
            throw std::runtime_error(std::string(mode) + ": not done within the timeout; is the input complete?");
        }
    }
};

}  // namespace

BenchTopics::BenchTopics(const std::string& prefix)
    : input(prefix + std::string(warden::default_input_topic)), passthrough(prefix + "bench_passthrough_out") {
    for (std::string* name : {&outputs.analytics, &outputs.error_tracking, &outputs.heatmaps, &outputs.dead_letter})
        name->insert(0, prefix);
}

std::vector<std::string> BenchTopics::all() const {
    return {input, outputs.analytics, outputs.error_tracking, outputs.heatmaps, outputs.dead_letter, passthrough};
}

const std::vector<Mode>& modes() {
    static const std::vector<Mode> all = {
        {"passthrough", Runner::passthrough, {}, false},
        {"warden", Runner::warden, {}, false},
        // Two members in one process (`run --threads 2`): events/s against one, CPU per event too.
        {"warden 2 threads", Runner::warden, {"--threads", "2"}, false},
        // librdkafka's mock cluster does not implement transactions as brokers do: real brokers only.
        {"warden exactly-once", Runner::warden, {"--processing-guarantee", "exactly-once"}, true}};
    return all;
}

const Mode& mode_named(const std::string& name) {
    for (const Mode& mode : modes()) {
        if (mode.name == name) return mode;
    }
    throw std::invalid_argument("unknown mode " + name);
}

Figures run_passthrough(const Options& o) {
    const int64_t process_start = steady_now_ns();
    const Deadline deadline{process_start, o.timeout_seconds};
    PassthroughState state;
    kafka::ConfPtr producer_conf = kafka::make_conf(producer_settings(o));
    rd_kafka_conf_set_dr_msg_cb(producer_conf.get(), &on_passthrough_delivery);
    rd_kafka_conf_set_opaque(producer_conf.get(), &state);
    kafka::ClientPtr producer = kafka::make_client(RD_KAFKA_PRODUCER, std::move(producer_conf));
    const BenchTopics topics(o.topic_prefix);
    kafka::TopicPtr output(rd_kafka_topic_new(producer.get(), topics.passthrough.c_str(), nullptr));
    kafka::ClientPtr consumer = kafka::make_client(RD_KAFKA_CONSUMER, kafka::make_conf(consumer_settings(o)));
    rd_kafka_poll_set_consumer(consumer.get());
    subscribe(consumer.get(), topics.input);

    ProgressLog progress("passthrough", o.progress_ms);
    std::vector<int32_t> partitions;  // seen so far, for storing offsets
    std::vector<bool> seen;           // by partition id
    uint64_t consumed = 0;
    size_t since_serve = 0;
    int64_t start_ns = 0;
    double cpu_start = 0;
    ThreadCpu threads_start;
    // Delivery reports and offset stores once per 1000 messages, and whenever the input is idle;
    // clock reads only then too, so the baseline pays nothing per message for being measured.
    auto serve = [&](int timeout_ms) {
        rd_kafka_poll(producer.get(), timeout_ms);
        store_offsets(consumer.get(), topics.input, state.tracker, partitions);
        since_serve = 0;
        if (state.delivery_errors) throw std::runtime_error("passthrough: a delivery failed");
        deadline.check("passthrough");
        progress.update(consumed, state.acknowledged);
    };
    while (consumed < o.events || state.acknowledged < consumed) {
        if (consumed == o.events || consumed - state.acknowledged > max_in_flight) {
            serve(10);
            continue;
        }
        kafka::MessagePtr message(rd_kafka_consumer_poll(consumer.get(), 10));
        if (!message) {
            serve(0);
            continue;
        }
        if (message->err) {  // transient; librdkafka logs it and retries
            serve(0);
            continue;
        }
        if (!start_ns) {
            start_ns = steady_now_ns();
            cpu_start = process_cpu_seconds();
            threads_start = thread_cpu();
        }
        const int32_t partition = message->partition;
        if (static_cast<size_t>(partition) >= seen.size()) seen.resize(static_cast<size_t>(partition) + 1);
        if (!seen[static_cast<size_t>(partition)]) {
            seen[static_cast<size_t>(partition)] = true;
            partitions.push_back(partition);
        }
        state.tracker.track(partition, message->offset, 1);
        rd_kafka_headers_t* input_headers = nullptr;
        kafka::HeadersPtr headers(rd_kafka_message_headers(message.get(), &input_headers) == RD_KAFKA_RESP_ERR_NO_ERROR
                                      ? rd_kafka_headers_copy(input_headers)
                                      : rd_kafka_headers_new(0));
        for (;;) {
            const rd_kafka_resp_err_t err = rd_kafka_producev(
                producer.get(), RD_KAFKA_V_RKT(output.get()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_KEY(message->key, message->key_len), RD_KAFKA_V_VALUE(message->payload, message->len),
                RD_KAFKA_V_HEADERS(headers.get()), RD_KAFKA_V_OPAQUE(pack_source(partition, message->offset)),
                RD_KAFKA_V_END);
            if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
            if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                throw std::runtime_error(std::string("produce: ") + rd_kafka_err2str(err));
            serve(10);  // librdkafka's queue is full: wait for deliveries
        }
        (void)headers.release();  // the produced message owns them now
        ++consumed;
        if (++since_serve == 1000) serve(0);
    }
    const double seconds = seconds_since(start_ns);
    const double cpu_seconds = process_cpu_seconds() - cpu_start;
    const ThreadCpu threads_end = thread_cpu();

    store_offsets(consumer.get(), topics.input, state.tracker, partitions);
    rd_kafka_commit(consumer.get(), nullptr, 0);
    rd_kafka_consumer_close(consumer.get());
    return {{"events", static_cast<double>(consumed)},
            {"seconds", seconds},
            {"cpu_seconds", cpu_seconds},
            {"outputs", static_cast<double>(state.acknowledged)},
            {"main_thread_cpu_seconds", threads_end.main - threads_start.main},
            {"librdkafka_cpu_seconds", threads_end.librdkafka - threads_start.librdkafka},
            {"join_seconds", static_cast<double>(start_ns - process_start) * 1e-9},
            {"peak_rss_mb", peak_rss_mb()}};
}

Figures run_warden(const Options& o) {
    const int64_t process_start = steady_now_ns();
    auto store = warden::FileTeamStore::from_json(warden::loadgen::teams_json(o.teams), "bench");
    warden::SharedTeamStore shared(*store, o.threads);
    std::vector<std::unique_ptr<warden::TeamCache>> caches;
    std::vector<warden::TeamCache*> member_caches;
    for (unsigned i = 0; i < o.threads; ++i) {
        caches.push_back(std::make_unique<warden::TeamCache>(shared.view(i)));
        member_caches.push_back(caches.back().get());
    }
    warden::WorkerThreads worker(worker_settings(o), member_caches);

    // The worker (its first member) runs on this thread, as under `warden run` (glibc gives other
    // threads their own malloc arenas, which behave differently); a watcher thread polls its
    // figures. The window starts at the first processed batch and counts only the events after it.
    std::atomic<bool> worker_returned{false};
    std::string watcher_failure;
    int64_t start_ns = 0, end_ns = 0;
    double cpu_start = 0, cpu_end = 0;
    ThreadCpu threads_start, threads_end;
    uint64_t consumed_at_start = 0, pauses = 0;
    warden::WorkerStats s;
    std::thread watcher([&] {
        ProgressLog progress("warden", o.progress_ms);
        bool was_paused = false;
        while (!worker_returned.load()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(2));  // cheap: this thread shares the cores
            s = worker.stats();
            if (!start_ns && s.outcomes.consumed > 0) {
                start_ns = steady_now_ns();
                cpu_start = process_cpu_seconds();
                threads_start = thread_cpu();
                consumed_at_start = s.outcomes.consumed;
            }
            progress.update(s.outcomes.consumed, s.delivered);
            if (s.paused && !was_paused) ++pauses;
            was_paused = s.paused;
            uint64_t produced = 0;
            for (uint64_t n : s.outcomes.produced) produced += n;
            if (s.outcomes.consumed >= o.events && s.in_flight == 0 && s.delivered >= produced) {
                end_ns = steady_now_ns();
                cpu_end = process_cpu_seconds();
                threads_end = thread_cpu();
                break;
            }
            if (seconds_since(process_start) > o.timeout_seconds) {
                watcher_failure = "warden: not done within the timeout; is the input complete?";
                break;
            }
        }
        worker.request_stop();
    });
    std::string worker_failure;
    try {
        worker.run();
    } catch (const std::exception& e) {
        worker_failure = e.what();
    }
    worker_returned.store(true);
    watcher.join();
    if (!worker_failure.empty()) throw std::runtime_error("warden: the worker failed: " + worker_failure);
    if (!watcher_failure.empty()) throw std::runtime_error(watcher_failure);
    if (!end_ns) throw std::runtime_error("warden: the worker stopped before finishing the input");
    return {{"events", static_cast<double>(s.outcomes.consumed - consumed_at_start)},
            {"seconds", static_cast<double>(end_ns - start_ns) * 1e-9},
            {"cpu_seconds", cpu_end - cpu_start},
            {"outputs", static_cast<double>(s.delivered)},
            {"main_thread_cpu_seconds", threads_end.main - threads_start.main},
            {"librdkafka_cpu_seconds", threads_end.librdkafka - threads_start.librdkafka},
            {"join_seconds", static_cast<double>(start_ns - process_start) * 1e-9},
            {"pauses", static_cast<double>(pauses)},
            {"fetch_stall_seconds", std::chrono::duration<double>(s.fetch_stall).count()},
            {"delivery_errors", static_cast<double>(s.delivery_errors)},
            {"peak_rss_mb", peak_rss_mb()}};
}

}  // namespace kafka_bench
