// Replay: a fixed offset range of a topic through the core, with direct assignment (no group),
// an optional rate limit and a checkpoint of the acknowledged prefix of each partition.
#include "consumed_views.hpp"
#include "handles.hpp"
#include "output_producer.hpp"
#include "replay_checkpoint.hpp"

#include <warden/kafka.hpp>
#include <warden/log.hpp>
#include <warden/pipeline.hpp>
#include <warden/rate_limiter.hpp>

#include <algorithm>
#include <map>
#include <stdexcept>
#include <thread>

namespace warden {
namespace {

using Clock = std::chrono::steady_clock;

KafkaProperties replay_consumer_properties(const ReplayOptions& o) {
    KafkaProperties p = {
        {"bootstrap.servers", o.brokers},
        {"group.id", "warden-replay"},  // required by the client; never joined: partitions are assigned
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"enable.partition.eof", "true"},  // how a partition whose range ends at the watermark is seen done
        {"auto.offset.reset", "earliest"},
        {"queued.min.messages", "20000"},
        {"queued.max.messages.kbytes", "65536"},
    };
    p.insert(p.end(), o.consumer_properties.begin(), o.consumer_properties.end());
    return p;
}

KafkaProperties replay_producer_properties(const ReplayOptions& o) {
    KafkaProperties p = {{"bootstrap.servers", o.brokers}};
    p.insert(p.end(), o.producer_properties.begin(), o.producer_properties.end());
    return p;
}

}  // namespace

class Replayer::Impl {
public:
    Impl(ReplayOptions options, TeamCache& cache, const std::atomic<bool>& stop)
        : options_(std::move(options)),
          stop_(stop),
          processor_(cache, options_.topics, options_.limits),
          store_waiter_(cache, RetryPolicy::Options::giving_up_after(options_.store_wait_timeout),
                        [this](std::chrono::milliseconds how_long) {
                            wait(how_long);
                            return !stop_.load(std::memory_order_relaxed);
                        }),
          limiter_(options_.max_rate, std::max(1.0, options_.max_rate / 10)) {
        if (options_.brokers.empty()) throw std::runtime_error("no brokers given: set --brokers host:port[,...]");
        if (!options_.dry_run) {
            producer_ = std::make_unique<kafka::OutputProducer>(
                replay_producer_properties(options_), [this](const kafka::SourceTag& tag) { tracker_.acknowledge(tag.partition, tag.offset); });
        }
        consumer_ = kafka::make_client(RD_KAFKA_CONSUMER, kafka::make_conf(replay_consumer_properties(options_)));
        rd_kafka_poll_set_consumer(consumer_.get());
    }

    ReplayProgress run(const ProgressSink& sink) {
        const auto started = Clock::now();
        resolve_ranges();
        save_checkpoint();
        assign();
        auto next_report = Clock::now() + options_.progress_interval;
        while (!stop_.load(std::memory_order_relaxed) && !finished()) {
            fill_batch();
            if (!batch_.empty()) process_batch();
            poll_producer(std::chrono::milliseconds(0));
            update_acked();
            if (Clock::now() >= next_report) {
                next_report = Clock::now() + options_.progress_interval;
                save_checkpoint();
                sink(progress(started));
            }
        }
        drain();
        update_acked();
        const bool complete = finished() && in_flight() == 0;
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
    void resolve_ranges() {
        if (!options_.checkpoint_path.empty()) {
            if (auto checkpoint = kafka::read_checkpoint(options_.checkpoint_path)) {
                if (checkpoint->topic != options_.topic) {
                    throw std::runtime_error("the checkpoint " + options_.checkpoint_path + " belongs to topic " +
                                             checkpoint->topic + ", not " + options_.topic);
                }
                for (PartitionProgress p : checkpoint->partitions) {
                    p.consumed = p.acked;  // acknowledged work is kept; the rest is redone
                    p.done = p.acked >= p.end;
                    parts_[p.partition] = p;
                }
                resumed_ = true;
                log::info("resuming from the checkpoint; its ranges are used", {{"checkpoint", options_.checkpoint_path}});
                return;
            }
        }
        for (int32_t partition : topic_partitions()) {
            PartitionProgress p;
            p.partition = partition;
            int64_t low = 0, high = 0;
            if (rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(consumer_.get(), options_.topic.c_str(),
                                                                           partition, &low, &high, 10'000)) {
                throw std::runtime_error("cannot read the offsets of " + options_.topic + " [" +
                                         std::to_string(partition) + "]: " + rd_kafka_err2str(err));
            }
            p.start = position(options_.from, partition, low, high);
            p.end = std::max(p.start, position(options_.to, partition, low, high));
            p.consumed = p.acked = p.start;
            p.done = p.start >= p.end;
            parts_[partition] = p;
        }
    }

    std::vector<int32_t> topic_partitions() {
        kafka::TopicPtr topic(rd_kafka_topic_new(consumer_.get(), options_.topic.c_str(), nullptr));
        const rd_kafka_metadata_t* metadata = nullptr;
        if (rd_kafka_resp_err_t err = rd_kafka_metadata(consumer_.get(), 0, topic.get(), &metadata, 10'000)) {
            throw std::runtime_error("cannot read the metadata of " + options_.topic + ": " + rd_kafka_err2str(err));
        }
        std::vector<int32_t> all;
        if (metadata->topic_cnt == 1 && metadata->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            for (int i = 0; i < metadata->topics[0].partition_cnt; ++i) all.push_back(metadata->topics[0].partitions[i].id);
        }
        rd_kafka_metadata_destroy(metadata);
        if (all.empty()) throw std::runtime_error("topic " + options_.topic + " does not exist or has no partitions");
        if (options_.partitions.empty()) return all;
        for (int32_t p : options_.partitions) {
            if (std::find(all.begin(), all.end(), p) == all.end()) {
                throw std::runtime_error("topic " + options_.topic + " has no partition " + std::to_string(p));
            }
        }
        return options_.partitions;
    }

    int64_t position(const OffsetSpec& spec, int32_t partition, int64_t low, int64_t high) {
        switch (spec.kind) {
            case OffsetSpec::Kind::earliest: return low;
            case OffsetSpec::Kind::latest: return high;
            case OffsetSpec::Kind::offset: return std::clamp(spec.value, low, high);
            case OffsetSpec::Kind::timestamp: break;
        }
        kafka::PartitionListPtr list = kafka::make_partition_list(1);
        rd_kafka_topic_partition_list_add(list.get(), options_.topic.c_str(), partition)->offset = spec.value;
        if (rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(consumer_.get(), list.get(), 10'000)) {
            throw std::runtime_error("cannot look up offsets by time in " + options_.topic + ": " + rd_kafka_err2str(err));
        }
        const int64_t offset = list->elems[0].offset;
        if (offset >= 0) return std::clamp(offset, low, high);
        // -1 means no message at or after the time, unless the broker cannot look times up (the
        // mock cluster cannot): then the last message, if it is that late, proves the broker wrong.
        if (high > low && timestamp_at(partition, high - 1) >= spec.value) {
            return search_by_time(partition, spec.value, low, high);
        }
        return high;
    }

    // The timestamp of the message at `offset`, read with a one-off assignment; -1 when unreadable.
    int64_t timestamp_at(int32_t partition, int64_t offset) {
        kafka::PartitionListPtr list = kafka::make_partition_list(1);
        rd_kafka_topic_partition_list_add(list.get(), options_.topic.c_str(), partition)->offset = offset;
        if (rd_kafka_assign(consumer_.get(), list.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) return -1;
        int64_t timestamp = -1;
        const auto deadline = Clock::now() + std::chrono::seconds(10);
        while (Clock::now() < deadline) {
            kafka::MessagePtr m(rd_kafka_consumer_poll(consumer_.get(), 100));
            if (!m || m->partition != partition) continue;
            if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR && m->offset >= offset) {
                rd_kafka_timestamp_type_t type;
                timestamp = rd_kafka_message_timestamp(m.get(), &type);
                break;
            }
            if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) break;
        }
        rd_kafka_assign(consumer_.get(), nullptr);
        return timestamp;
    }

    // The first offset in [low, high) whose message is at or after `time`, by binary search over
    // message timestamps (exact when timestamps grow with offsets, as with one producer clock).
    int64_t search_by_time(int32_t partition, int64_t time, int64_t low, int64_t high) {
        int64_t first = low, last = high;  // the answer is in [first, last]
        while (first < last) {
            const int64_t middle = first + (last - first) / 2;
            const int64_t t = timestamp_at(partition, middle);
            if (t < 0) throw std::runtime_error("cannot read offset " + std::to_string(middle) + " of " + options_.topic);
            if (t >= time) {
                last = middle;
            } else {
                first = middle + 1;
            }
        }
        return first;
    }

    void assign() {
        kafka::PartitionListPtr list = kafka::make_partition_list(static_cast<int>(parts_.size()));
        for (const auto& [id, p] : parts_) {
            if (!p.done) rd_kafka_topic_partition_list_add(list.get(), options_.topic.c_str(), id)->offset = p.consumed;
        }
        if (rd_kafka_resp_err_t err = rd_kafka_assign(consumer_.get(), list.get())) {
            throw std::runtime_error(std::string("cannot assign the replay partitions: ") + rd_kafka_err2str(err));
        }
    }

    bool finished() const {
        return std::all_of(parts_.begin(), parts_.end(), [](const auto& e) { return e.second.done; });
    }

    void fill_batch() {
        const auto deadline = Clock::now() + std::chrono::milliseconds(100);
        while (batch_.size() < options_.batch_size && !stop_.load(std::memory_order_relaxed)) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
            rd_kafka_message_t* raw = rd_kafka_consumer_poll(consumer_.get(), batch_.empty() ? static_cast<int>(std::max<int64_t>(left, 0)) : 0);
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

    void process_batch() {
        consumed_views_.clear();
        for (const auto& m : batch_) consumed_views_.add(*m);
        const std::span<const MessageView> views = consumed_views_.views(options_.topic);
        const bool processed = store_waiter_.until_done([&] {
            result_.clear();
            return processor_.process(views, result_);
        });
        if (!processed) {
            batch_.clear();  // stopped while the store was away: a resumed run redoes it
            return;
        }
        wait(limiter_.acquire(Clock::now(), static_cast<double>(batch_.size())));

        for (size_t i = 0; i < batch_.size(); ++i) {
            const rd_kafka_message_t& m = *batch_[i];
            const MessageOutcome& outcome = result_.outcomes[i];
            const uint32_t outputs = options_.dry_run ? 0 : outcome.record_count;
            tracker_.track(m.partition, m.offset, outputs);
            for (uint32_t r = 0; r < outputs; ++r) {
                OutputRecord& record = result_.records[outcome.first_record + r];
                record.headers.add("replayed", "true");
                producer_->produce(processor_.topics().name_of(record.destination), record,
                                   kafka::SourceTag{m.partition, m.offset, 0});
            }
        }
        outcomes_.add(result_);
        batch_.clear();
    }

    // Sleeps `how_long` while serving delivery reports (rate limit and store backoff).
    void wait(std::chrono::nanoseconds how_long) {
        const auto until = Clock::now() + how_long;
        while (Clock::now() < until && !stop_.load(std::memory_order_relaxed)) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
            poll_producer(std::clamp(left, std::chrono::milliseconds(1), std::chrono::milliseconds(50)));
        }
    }

    void poll_producer(std::chrono::milliseconds timeout) {
        if (producer_) {
            producer_->poll(timeout);
        } else if (timeout.count() > 0) {
            std::this_thread::sleep_for(timeout);
        }
    }

    size_t in_flight() const { return producer_ ? producer_->in_flight() : 0; }

    void update_acked() {
        for (auto& [id, p] : parts_) {
            if (auto next = tracker_.take_commit(id)) p.acked = *next;
        }
    }

    void drain() {
        if (!producer_) return;
        if (!producer_->drain(Clock::now() + options_.shutdown_timeout)) {
            log::warn("replay stopped with unacknowledged outputs; a resumed run redoes them",
                      {{"in_flight", std::to_string(producer_->in_flight())}});
        }
    }

    void save_checkpoint() {
        if (options_.checkpoint_path.empty()) return;
        kafka::ReplayCheckpoint checkpoint{options_.topic, {}};
        for (const auto& [id, p] : parts_) checkpoint.partitions.push_back(p);
        kafka::write_checkpoint(options_.checkpoint_path, checkpoint);
    }

    ReplayProgress progress(Clock::time_point started) const {
        ReplayProgress out;
        out.outcomes = outcomes_;
        for (const auto& [id, p] : parts_) out.partitions.push_back(p);
        out.elapsed = Clock::now() - started;
        out.resumed = resumed_;
        return out;
    }

    ReplayOptions options_;
    const std::atomic<bool>& stop_;
    BatchProcessor processor_;
    StoreWaiter store_waiter_;
    RateLimiter limiter_;
    OffsetTracker tracker_;
    std::unique_ptr<kafka::OutputProducer> producer_;  // none in a dry run
    kafka::ClientPtr consumer_;
    std::map<int32_t, PartitionProgress> parts_;
    bool resumed_ = false;
    OutcomeCounters outcomes_;

    std::vector<kafka::MessagePtr> batch_;
    kafka::ConsumedViews consumed_views_;
    BatchResult result_;
};

Replayer::Replayer(ReplayOptions options, TeamCache& cache)
    : impl_(std::make_unique<Impl>(std::move(options), cache, stop_)) {}
Replayer::~Replayer() = default;
ReplayProgress Replayer::run(const ProgressSink& progress) { return impl_->run(progress); }

}  // namespace warden
