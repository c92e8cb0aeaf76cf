// Replay: a fixed offset range of a topic through the core, with direct assignment (no group),
// an optional rate limit and a checkpoint of the acknowledged prefix of each partition.
#include "broker_health.hpp"
#include "consumed_views.hpp"
#include "offset_range.hpp"
#include "output_producer.hpp"
#include "prefetch.hpp"
#include "replay_checkpoint.hpp"
#include "topic_catalog.hpp"
#include "transactions.hpp"
#include "watermarks.hpp"

#include <warden/delivery.hpp>
#include <warden/kafka_handles.hpp>
#include <warden/log.hpp>
#include <warden/pipeline.hpp>
#include <warden/rate_limiter.hpp>
#include <warden/replay.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>
#include <stdexcept>
#include <tuple>

namespace warden {

namespace {

bool exactly_once(const ReplayOptions& o) { return o.guarantee == ProcessingGuarantee::exactly_once; }

kafka::OutputProducerOptions producer_options(const ReplayOptions& o) {
    return kafka::output_producer_options(o.brokers, o.producer_properties, o.limits, o.topic, o.topics,
                                          exactly_once(o) ? o.transactional_id : std::string());
}

}  // namespace

KafkaProperties replay_consumer_properties(const ReplayOptions& o) {
    KafkaProperties p = {
        {"bootstrap.servers", o.brokers},
        // Required by the client, never joined: partitions are assigned. Exactly-once commits the
        // replay's progress to it, inside each transaction.
        {"group.id", exactly_once(o) ? o.transactional_id : "warden-replay"},
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"enable.partition.eof", "true"},  // how a partition whose range ends at the watermark is seen done
        {"auto.offset.reset", "earliest"},
    };
    const KafkaProperties prefetch = kafka::prefetch_properties();
    p.insert(p.end(), prefetch.begin(), prefetch.end());
    p.insert(p.end(), o.consumer_properties.begin(), o.consumer_properties.end());
    return p;
}

KafkaProperties replay_producer_properties(const ReplayOptions& o) {
    if (o.dry_run) return {};
    return kafka::output_producer_properties(producer_options(o));
}

std::string replay_transactional_id(const ReplayOptions& options) {
    if (!options.checkpoint_path.empty()) {
        const std::optional<kafka::ReplayCheckpoint> checkpoint = kafka::read_checkpoint(options.checkpoint_path);
        if (checkpoint && !checkpoint->transactional_id.empty()) return checkpoint->transactional_id;
    }
    char unique[9];
    std::snprintf(unique, sizeof unique, "%08x", std::random_device{}());
    return "warden-replay-" + options.topic + "-" + std::to_string(kafka::wall_clock_ms()) + "-" + unique;
}

std::string replay_checkpoint_mismatch(const ReplayOptions& options) {
    if (options.checkpoint_path.empty()) return {};
    const std::optional<kafka::ReplayCheckpoint> checkpoint = kafka::read_checkpoint(options.checkpoint_path);
    if (!checkpoint) return {};
    return kafka::checkpoint_mismatch(options.checkpoint_path, *checkpoint, options);
}

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds request_timeout{10'000};
// A rate-limit debt smaller than this is carried to the next message rather than slept off: a
// sleep is never shorter than about a millisecond, so sleeping for each message of a high rate
// would cap it far below what was asked.
constexpr std::chrono::milliseconds pacing_step{1};
// Partitions named in an error about inverted ranges; the rest are counted.
constexpr size_t partitions_named = 5;

// The sink of a replay: the Kafka producer, or nothing in a dry run.
std::unique_ptr<OutputSink> make_sink(const ReplayOptions& o) {
    if (o.dry_run) return std::make_unique<DiscardSink>();
    return std::make_unique<kafka::OutputProducer>(producer_options(o));
}

// The options with the replay's identity settled: exactly-once needs one before its clients exist.
ReplayOptions with_identity(ReplayOptions o) {
    if (exactly_once(o) && o.transactional_id.empty()) o.transactional_id = replay_transactional_id(o);
    return o;
}

// A batch holds at most a tenth of a second of a rate-limited replay, so reading never runs far
// ahead of the pace.
size_t batch_limit(const ReplayOptions& o) {
    if (o.max_rate <= 0) return o.batch_size;
    return std::clamp<size_t>(static_cast<size_t>(std::ceil(o.max_rate / 10)), 1, o.batch_size);
}

}  // namespace

class Replayer::Impl {
public:
    Impl(ReplayOptions options, TeamCache& cache, const std::atomic<bool>& stop)
        : options_(with_identity(std::move(options))),
          stop_(stop),
          processor_(cache, options_.topics, options_.limits),
          store_waiter_(cache, RetryPolicy::Options::giving_up_after(options_.store_wait_timeout),
                        [this](std::chrono::milliseconds how_long) {
                            wait(how_long);
                            return !stop_.load(std::memory_order_relaxed);
                        }),
          limiter_(options_.max_rate, std::max(1.0, options_.max_rate / 10)),
          batch_limit_(batch_limit(options_)),
          sink_(make_sink(options_)),
          delivery_(*sink_, options_.topics, {{"replayed", "true"}}) {
        if (options_.brokers.empty()) throw std::runtime_error("no brokers given: set --brokers host:port[,...]");
        if (exactly_once(options_) && (options_.dry_run || options_.checkpoint_path.empty())) {
            throw std::runtime_error("an exactly-once replay produces, and resumes from its checkpoint");
        }
        kafka::ConfPtr conf = kafka::make_conf(replay_consumer_properties(options_));
        rd_kafka_conf_set_error_cb(conf.get(), &kafka::BrokerHealth::on_client_error);
        rd_kafka_conf_set_opaque(conf.get(), &broker_health_);
        consumer_ = kafka::make_client(RD_KAFKA_CONSUMER, std::move(conf));
        rd_kafka_poll_set_consumer(consumer_.get());
        if (exactly_once(options_)) {
            transactions_ = std::make_unique<kafka::Transactions>(static_cast<kafka::OutputProducer&>(*sink_),
                                                                  consumer_.get(), options_.topic, stop_);
        }
    }

    ReplayProgress run(const ProgressSink& sink) {
        const auto started = Clock::now();
        kafka::BrokerWait wait;
        wait.stop = &stop_;
        wait.limit = options_.broker_wait;
        const std::optional<kafka::TopicCatalog> catalog = kafka::check_cluster(
            consumer_.get(), broker_health_, options_.brokers,
            {options_.topic, options_.redrive_max_attempts > 0 ? "--dlq-topic" : "--topic"}, options_.topics, wait);
        if (!catalog) return progress(started);  // stopped while waiting: nothing was read
        // Fences an earlier run of this replay that is still going, and ends what it left open.
        if (transactions_ && !transactions_->init()) return progress(started);
        resolve_ranges(*catalog);
        save_checkpoint();
        assign();
        auto next_report = Clock::now() + options_.progress_interval;
        while (!stop_.load(std::memory_order_relaxed)) {
            if (finished()) {
                // Exactly-once: the end is reached when the last progress is committed.
                if (!transactions_ || commit_transaction(Clock::now() + options_.shutdown_timeout)) break;
                continue;
            }
            fill_batch();
            if (!batch_.empty()) process_batch();
            delivery_.poll(std::chrono::milliseconds(0));
            if (!transactions_) {
                update_acked();
            } else if (transactions_->due(Clock::now(), options_.transaction_interval)) {
                commit_transaction(Clock::now() + request_timeout);
            }
            if (Clock::now() >= next_report) {
                next_report = Clock::now() + options_.progress_interval;
                save_checkpoint();
                sink(progress(started));
            }
        }
        bool complete = false;
        if (transactions_) {
            complete = commit_transaction(Clock::now() + options_.shutdown_timeout) && finished();
        } else {
            drain();
            update_acked();
            complete = finished() && delivery_.in_flight() == 0;
        }
        if (complete) {
            for (auto& [id, p] : parts_) p.acked = p.end;  // gaps (deleted offsets) included
        }
        save_checkpoint();
        ReplayProgress final = progress(started);
        final.complete = complete;
        rd_kafka_consumer_close(consumer_.get());
        return final;
    }

private:
    // Fixes each partition's [start, end): from the checkpoint when one exists, otherwise from
    // the brokers, once, so messages arriving during the replay are not part of it.
    void resolve_ranges(const kafka::TopicCatalog& catalog) {
        if (!options_.checkpoint_path.empty()) {
            if (auto checkpoint = kafka::read_checkpoint(options_.checkpoint_path)) {
                const std::string mismatch =
                    kafka::checkpoint_mismatch(options_.checkpoint_path, *checkpoint, options_);
                if (!mismatch.empty()) throw std::runtime_error(mismatch);
                const std::vector<int32_t> partitions = catalog.partitions(options_.topic);
                for (PartitionProgress p : checkpoint->partitions) {
                    if (std::find(partitions.begin(), partitions.end(), p.partition) == partitions.end()) {
                        throw std::runtime_error("the checkpoint " + options_.checkpoint_path + " names partition " +
                                                 std::to_string(p.partition) + ", which topic " + options_.topic +
                                                 " does not have; remove the checkpoint to start the replay afresh");
                    }
                    p.consumed = p.acked;  // acknowledged work is kept; the rest is redone
                    p.done = p.acked >= p.end;
                    parts_[p.partition] = p;
                    delivery_.assign(p.partition);
                }
                resumed_ = true;
                if (transactions_) read_committed_progress();
                start_transactions();
                log::info("resuming from the checkpoint", {{"checkpoint", options_.checkpoint_path}});
                return;
            }
        }
        const std::vector<int32_t> partitions = topic_partitions(catalog);
        std::map<int32_t, kafka::Watermarks> watermarks;
        if (rd_kafka_resp_err_t err =
                kafka::query_watermarks(consumer_.get(), options_.topic, partitions, request_timeout, watermarks)) {
            throw std::runtime_error("cannot read the offsets of " + options_.topic + ": " + rd_kafka_err2str(err));
        }
        kafka::OffsetRangeResolver ranges(consumer_.get(), options_.topic, request_timeout);
        std::vector<PartitionProgress> inverted;
        for (int32_t partition : partitions) {
            const auto [low, high] = watermarks.at(partition);
            PartitionProgress p;
            p.partition = partition;
            p.start = ranges.position(options_.from, partition, low, high);
            p.end = ranges.position(options_.to, partition, low, high);
            if (p.start == low && low > 0 && kafka::OffsetRangeResolver::may_precede_log_start(options_.from, low)) {
                // Otherwise the part of the range that retention removed would go missing silently.
                log::warn(
                    "the replay range starts at the log start offset: records before it were deleted "
                    "(retention), so the start of the range asked for may be gone",
                    {{"topic", options_.topic},
                     {"partition", std::to_string(partition)},
                     {"log_start_offset", std::to_string(low)}});
            }
            if (p.start > p.end) inverted.push_back(p);
            p.consumed = p.acked = p.start;
            p.done = p.start >= p.end;
            parts_[partition] = p;
            delivery_.assign(partition);
        }
        if (!inverted.empty()) refuse_inverted(inverted);
        start_transactions();
    }

    // Exactly-once: the progress committed with the outputs is the group's offsets; the
    // checkpoint's lags them by up to a second (it is written once a second).
    void read_committed_progress() {
        kafka::PartitionListPtr list = kafka::make_partition_list(static_cast<int>(parts_.size()));
        for (const auto& [id, p] : parts_) rd_kafka_topic_partition_list_add(list.get(), options_.topic.c_str(), id);
        if (rd_kafka_resp_err_t err =
                rd_kafka_committed(consumer_.get(), list.get(), static_cast<int>(request_timeout.count()))) {
            throw std::runtime_error("cannot read the progress the replay committed (group " +
                                     options_.transactional_id + "): " + rd_kafka_err2str(err));
        }
        for (int i = 0; i < list->cnt; ++i) {
            const rd_kafka_topic_partition_t& committed = list->elems[i];
            PartitionProgress& p = parts_.at(committed.partition);
            if (committed.offset < 0) continue;  // nothing committed yet: the checkpoint's prefix stands
            p.consumed = p.acked = std::clamp(committed.offset, p.start, p.end);
            p.done = p.consumed >= p.end;
        }
    }

    // Exactly-once: each partition's committed and processed progress start where it resumes.
    void start_transactions() {
        if (!transactions_) return;
        for (const auto& [id, p] : parts_) committed_[id] = processed_[id] = p.consumed;
    }

    // Ranges whose kinds cannot be compared before they are resolved (a time and an offset) can
    // still turn out inverted; replaying nothing for them would hide the mistake.
    [[noreturn]] void refuse_inverted(const std::vector<PartitionProgress>& inverted) const {
        std::string which;
        for (size_t i = 0; i < inverted.size() && i < partitions_named; ++i) {
            which += (i ? ", " : "") + std::to_string(inverted[i].partition) + " (from offset " +
                     std::to_string(inverted[i].start) + " to " + std::to_string(inverted[i].end) + ")";
        }
        if (inverted.size() > partitions_named)
            which += " and " + std::to_string(inverted.size() - partitions_named) + " more";
        throw std::runtime_error("the replay range of " + options_.topic +
                                 " is inverted once resolved: --from falls after --to in partition " + which +
                                 ". Swap --from and --to, or check the times and offsets");
    }

    std::vector<int32_t> topic_partitions(const kafka::TopicCatalog& catalog) const {
        std::vector<int32_t> all = catalog.partitions(options_.topic);
        if (all.empty()) throw std::runtime_error("topic " + options_.topic + " has no partitions");
        if (options_.partitions.empty()) return all;
        for (int32_t p : options_.partitions) {
            if (std::find(all.begin(), all.end(), p) == all.end()) {
                throw std::runtime_error("topic " + options_.topic + " has no partition " + std::to_string(p));
            }
        }
        return options_.partitions;
    }

    void assign() {
        kafka::PartitionListPtr list = kafka::make_partition_list(static_cast<int>(parts_.size()));
        for (const auto& [id, p] : parts_) {
            if (!p.done) rd_kafka_topic_partition_list_add(list.get(), options_.topic.c_str(), id)->offset = p.consumed;
        }
        if (rd_kafka_resp_err_t err = rd_kafka_assign(consumer_.get(), list.get())) {
            throw std::runtime_error(std::string("cannot assign the replay partitions: ") + rd_kafka_err2str(err));
        }
        // A rewind assigns again partitions that were paused at their end.
        rd_kafka_resume_partitions(consumer_.get(), list.get());
    }

    bool finished() const {
        return std::all_of(parts_.begin(), parts_.end(), [](const auto& e) { return e.second.done; });
    }

    void fill_batch() {
        const auto deadline = Clock::now() + std::chrono::milliseconds(100);
        while (batch_.size() < batch_limit_ && !stop_.load(std::memory_order_relaxed)) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
            rd_kafka_message_t* raw = rd_kafka_consumer_poll(
                consumer_.get(), batch_.empty() ? static_cast<int>(std::max<int64_t>(left, 0)) : 0);
            if (!raw) {
                if (!batch_.empty() || left <= 0) break;
                continue;
            }
            kafka::MessagePtr message(raw);
            auto part = parts_.find(message->partition);
            if (part == parts_.end() || part->second.done) continue;
            PartitionProgress& p = part->second;
            if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                if (message->offset >= p.end || message->offset >= p.consumed) mark_done(p);
                continue;
            }
            if (message->err) {
                log::warn("replay consumer error", {{"error", rd_kafka_message_errstr(message.get())}});
                continue;
            }
            if (message->offset >= p.end) {
                mark_done(p);
                continue;
            }
            p.consumed = message->offset + 1;
            if (p.consumed >= p.end) mark_done(p);
            batch_.push_back(std::move(message));
        }
    }

    void mark_done(PartitionProgress& p) {
        p.done = true;
        kafka::PartitionListPtr list = kafka::make_partition_list(1);
        rd_kafka_topic_partition_list_add(list.get(), options_.topic.c_str(), p.partition);
        rd_kafka_pause_partitions(consumer_.get(), list.get());
    }

    // A redrive sends through only the dead letters that may go again; `sent_` marks them.
    std::span<const MessageView> views_to_process() {
        consumed_views_.clear();
        for (const auto& m : batch_) consumed_views_.add(*m);
        if (options_.redrive_max_attempts == 0) return consumed_views_.views(options_.topic);
        const std::span<const MessageView> all = consumed_views_.dead_letter_views(options_.topic);
        selected_.clear();
        sent_.assign(all.size(), false);
        for (size_t i = 0; i < all.size(); ++i) {
            if (consumed_views_.output(i)) {
                ++redrive_outputs_;  // not an input: going through the pipeline would be wrong
            } else if (consumed_views_.truncated(i)) {
                ++redrive_truncated_;
            } else if (all[i].dead_letter_attempts >= options_.redrive_max_attempts) {
                ++redrive_exhausted_;
            } else {
                sent_[i] = true;
                selected_.push_back(all[i]);
            }
        }
        return selected_;
    }

    void process_batch() {
        const std::span<const MessageView> views = views_to_process();
        const bool processed = store_waiter_.until_done([&] {
            result_.clear();
            return processor_.process(views, result_);
        });
        if (!processed) {
            batch_.clear();  // stopped while the store was away: a resumed run redoes it
            return;
        }
        if (transactions_) transactions_->begin();
        size_t next_outcome = 0;
        for (size_t i = 0; i < batch_.size(); ++i) {
            const rd_kafka_message_t& m = *batch_[i];
            const bool sent = options_.redrive_max_attempts == 0 || sent_[i];
            if (sent) pace();
            // A dead letter kept back produces nothing: its offset is done at once.
            const MessageOutcome outcome = sent ? result_.outcomes[next_outcome++] : MessageOutcome{};
            delivery_.deliver({m.partition, m.offset, *delivery_.epoch_of(m.partition)}, outcome, result_);
            if (transactions_) processed_[m.partition] = m.offset + 1;
        }
        outcomes_.add(result_);
        batch_.clear();
    }

    // Takes one message's permit of the rate limit, sleeping once the debt reaches a pacing step:
    // the limit holds for every message, not only on average over batches.
    void pace() {
        const std::chrono::nanoseconds debt = limiter_.acquire(Clock::now());
        if (debt >= pacing_step) wait(debt);
    }

    // Sleeps `how_long` while serving delivery reports (rate limit and store backoff).
    void wait(std::chrono::nanoseconds how_long) {
        const auto until = Clock::now() + how_long;
        while (Clock::now() < until && !stop_.load(std::memory_order_relaxed)) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
            delivery_.poll(std::clamp(left, std::chrono::milliseconds(1), std::chrono::milliseconds(50)));
        }
    }

    void update_acked() {
        delivery_.collect_refused(outcomes_);
        for (auto& [id, p] : parts_) {
            if (auto next = delivery_.take_committable(id)) p.acked = *next;
        }
    }

    // Exactly-once: commits the outputs since the last commit with each partition's progress; true
    // when that committed, or when there was nothing to commit. After an abort, the replay goes
    // back to the committed progress and does the work again.
    bool commit_transaction(Clock::time_point deadline) {
        for (const auto& [id, p] : parts_) {
            // A partition read to its end commits the end itself, past any gap before it.
            const int64_t target = p.done && processed_.at(id) >= p.consumed ? p.end : processed_.at(id);
            if (target <= committed_.at(id)) continue;
            transactions_->begin();
            transactions_->processed(id, target);
        }
        if (!transactions_->open()) return true;
        if (transactions_->commit(delivery_, deadline) == kafka::Transactions::Outcome::aborted) {
            rewind();
            return false;
        }
        for (const auto& [id, offset] : transactions_->last_committed()) committed_[id] = parts_.at(id).acked = offset;
        delivery_.collect_refused(outcomes_);
        committed_outcomes_ = outcomes_;
        committed_kept_back_ = {redrive_exhausted_, redrive_truncated_, redrive_outputs_};
        return true;
    }

    // After an aborted transaction: back to the committed progress, counts included, as a
    // resumed run would start. A replay that is stopping reads nothing more.
    void rewind() {
        batch_.clear();
        // Refused outputs are counted when their redone transaction commits: the producer keeps
        // their dead letters for the redo and their count until then.
        outcomes_ = committed_outcomes_;
        std::tie(redrive_exhausted_, redrive_truncated_, redrive_outputs_) = committed_kept_back_;
        if (stop_.load(std::memory_order_relaxed)) return;
        for (auto& [id, p] : parts_) {
            p.consumed = processed_[id] = committed_[id];
            p.done = p.consumed >= p.end;
            delivery_.assign(id);  // acknowledgements of the aborted work no longer count
        }
        if (rd_kafka_resp_err_t err = rd_kafka_assign(consumer_.get(), nullptr)) {
            throw std::runtime_error(std::string("cannot rewind the replay partitions: ") + rd_kafka_err2str(err));
        }
        assign();
        log::info("replay rewound to its committed progress");
    }

    void drain() {
        if (!delivery_.drain_all(Clock::now() + options_.shutdown_timeout)) {
            log::warn("replay stopped with unacknowledged outputs; a resumed run redoes them",
                      {{"in_flight", std::to_string(delivery_.in_flight())}});
        }
    }

    void save_checkpoint() {
        if (options_.checkpoint_path.empty()) return;
        kafka::ReplayCheckpoint checkpoint{options_.topic, kafka::replay_range(options_), {}, {}};
        if (transactions_) checkpoint.transactional_id = options_.transactional_id;
        for (const auto& [id, p] : parts_) checkpoint.partitions.push_back(p);
        kafka::write_checkpoint(options_.checkpoint_path, checkpoint);
    }

    ReplayProgress progress(Clock::time_point started) const {
        ReplayProgress out;
        out.outcomes = outcomes_;
        for (const auto& [id, p] : parts_) out.partitions.push_back(p);
        out.elapsed = Clock::now() - started;
        out.resumed = resumed_;
        out.redrive_exhausted = redrive_exhausted_;
        out.redrive_truncated = redrive_truncated_;
        out.redrive_outputs = redrive_outputs_;
        return out;
    }

    ReplayOptions options_;
    const std::atomic<bool>& stop_;
    BatchProcessor processor_;
    StoreWaiter store_waiter_;
    RateLimiter limiter_;
    size_t batch_limit_;
    kafka::BrokerHealth broker_health_;  // outlives the clients, whose callbacks use it
    std::unique_ptr<OutputSink> sink_;   // the producer, or a discarding sink in a dry run
    Delivery delivery_;
    kafka::ClientPtr consumer_;
    std::map<int32_t, PartitionProgress> parts_;
    bool resumed_ = false;
    OutcomeCounters outcomes_;

    // Exactly-once only.
    std::unique_ptr<kafka::Transactions> transactions_;
    std::map<int32_t, int64_t> committed_;  // per partition: the progress the last commit made durable
    std::map<int32_t, int64_t> processed_;  // per partition: the offset after the last one processed
    OutcomeCounters committed_outcomes_;    // the counts of the committed work
    std::tuple<uint64_t, uint64_t, uint64_t> committed_kept_back_;  // and its redrive_* counts

    std::vector<kafka::MessagePtr> batch_;
    kafka::ConsumedViews consumed_views_;
    std::vector<MessageView> selected_;  // a redrive's views of the dead letters sent through
    std::vector<bool> sent_;             // per message of the batch: sent through (a redrive)
    uint64_t redrive_exhausted_ = 0;
    uint64_t redrive_truncated_ = 0;
    uint64_t redrive_outputs_ = 0;
    BatchResult result_;
};

Replayer::Replayer(ReplayOptions options, TeamCache& cache)
    : impl_(std::make_unique<Impl>(std::move(options), cache, stop_)) {}
Replayer::~Replayer() = default;
ReplayProgress Replayer::run(const ProgressSink& progress) { return impl_->run(progress); }

}  // namespace warden
