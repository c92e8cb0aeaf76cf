// The consumer-group worker: consume a batch, run it through the core, produce its outputs, and
// store an input offset only when the acknowledged prefix of its partition passes it.
#include "broker_health.hpp"
#include "consumed_views.hpp"
#include "lag_watch.hpp"
#include "output_producer.hpp"
#include "prefetch.hpp"
#include "topic_catalog.hpp"
#include "transactions.hpp"
#include "transient_errors.hpp"

#include <warden/delivery.hpp>
#include <warden/kafka_handles.hpp>
#include <warden/log.hpp>
#include <warden/pipeline.hpp>
#include <warden/retry_policy.hpp>
#include <warden/worker.hpp>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace warden {
namespace {

using Clock = std::chrono::steady_clock;

// How long a failed worker waits for its consumer to be destroyed (normally well under a second).
constexpr std::chrono::milliseconds abandon_timeout{10'000};
// The first librdkafka that can destroy a consumer between joining and its first assignment.
constexpr int unassigned_destroy_fixed_version = 0x020300ff;  // 2.3.0

bool exactly_once(const WorkerOptions& o) { return o.guarantee == ProcessingGuarantee::exactly_once; }

kafka::OutputProducerOptions producer_options(const WorkerOptions& o) {
    return kafka::output_producer_options(o.brokers, o.producer_properties, o.limits, o.input_topic, o.topics,
                                          exactly_once(o) ? o.transactional_id : std::string());
}

}  // namespace

KafkaProperties worker_consumer_properties(const WorkerOptions& o) {
    KafkaProperties p = {
        {"bootstrap.servers", o.brokers},
        {"group.id", o.group},
        {"partition.assignment.strategy", "cooperative-sticky"},
        // At-least-once commits what we store, every second and on close; exactly-once commits
        // offsets only inside transactions.
        {"enable.auto.commit", exactly_once(o) ? "false" : "true"},
        {"enable.auto.offset.store", "false"},  // we store only acknowledged prefixes
        // Offsets of another member's open transaction are waited for, not read stale (KIP-447).
        {"isolation.level", "read_committed"},
        {"auto.commit.interval.ms", "1000"},
        {"auto.offset.reset", "earliest"},
    };
    const KafkaProperties prefetch = kafka::prefetch_properties(rd_kafka_version(), o.member_count);
    p.insert(p.end(), prefetch.begin(), prefetch.end());
    if (!o.group_instance_id.empty()) p.emplace_back("group.instance.id", o.group_instance_id);
    p.insert(p.end(), o.consumer_properties.begin(), o.consumer_properties.end());
    return p;
}

KafkaProperties worker_producer_properties(const WorkerOptions& o) {
    return kafka::output_producer_properties(producer_options(o));
}

namespace {

std::string partitions_text(const rd_kafka_topic_partition_list_t& list) {
    std::string out;
    for (int i = 0; i < list.cnt; ++i) {
        if (i) out += ',';
        out += std::to_string(list.elems[i].partition);
    }
    return out;
}

}  // namespace

class Worker::Impl {
public:
    Impl(WorkerOptions options, TeamCache& cache, const std::atomic<bool>& stop)
        : options_(std::move(options)),
          stop_(stop),
          cache_(cache),
          processor_(cache, options_.topics, options_.limits),
          producer_(producer_options(options_)),
          delivery_(producer_, options_.topics) {
        if (options_.brokers.empty()) throw std::runtime_error("no brokers given: set --brokers host:port[,...]");
        processor_.set_quota(options_.quota);
        processor_.set_key_usage(options_.key_usage);
        if (!options_.audit_topic.empty()) {
            audit_.emplace(options_.audit_key ? *options_.audit_key : FingerprintKey::random(), options_.audit);
            processor_.set_audit(&*audit_);
            delivery_.attach_audit(*audit_, options_.audit_topic);
        }
        kafka::ConfPtr conf = kafka::make_conf(worker_consumer_properties(options_));
        rd_kafka_conf_set_rebalance_cb(conf.get(), &Impl::on_rebalance);
        rd_kafka_conf_set_error_cb(conf.get(), &Impl::on_client_error);
        rd_kafka_conf_set_opaque(conf.get(), this);
        consumer_ = kafka::make_client(RD_KAFKA_CONSUMER, std::move(conf));
        rd_kafka_poll_set_consumer(consumer_.get());
        if (exactly_once(options_)) {
            transactions_ =
                std::make_unique<kafka::Transactions>(producer_, consumer_.get(), options_.input_topic, stop_);
        }
    }

    void run() {
        try {
            run_loop();
        } catch (...) {
            if (records_admin_calls()) options_.admin_audit->close();  // nothing takes calls any more
            abandon_group();
            throw;
        }
    }

    WorkerStats stats() const {
        WorkerStats copy;
        {
            std::lock_guard lock(stats_mutex_);
            copy = stats_;
        }
        const kafka::BrokerHealth::Status brokers = broker_health_.status();
        copy.brokers_reached = brokers.reachable;
        copy.broker_issue = brokers.issue;
        return copy;
    }

private:
    void run_loop() {
        if (!check_cluster() || (transactions_ && !transactions_->init())) {
            shut_down();  // stopped while waiting for the brokers
            return;
        }
        subscribe();
        log::info("worker started", {{"group", options_.group}, {"topic", options_.input_topic}});
        lag_ = std::make_unique<kafka::LagWatch>(consumer_.get(), options_.input_topic, options_.lag_interval,
                                                 broker_health_, [this](std::map<int32_t, int64_t> lag) {
                                                     std::lock_guard lock(stats_mutex_);
                                                     stats_.lag = std::move(lag);
                                                 });
        // Readiness follows the team store from the start, not from the first event.
        probe_store();
        if (records_admin_calls()) options_.admin_audit->open();  // taken at every turn from here
        while (!stop_.load(std::memory_order_relaxed)) {
            apply_backpressure();
            if (store_waiting_) {
                serve_while_store_waits();
            } else {
                fill_batch();
            }
            if (Clock::now() >= store_retry_at_) {
                if (!batch_.empty()) {
                    process_batch();
                } else if (store_waiting_) {
                    probe_store();
                }
            }
            delivery_.poll(std::chrono::milliseconds(0));
            take_admin_calls();
            if (transactions_) {
                // The audit records go out with the transaction that holds their inputs (drain_all);
                // admin calls' records, when no input opens one, in a transaction of their own.
                if (!transactions_->open() && audit_ && audit_->due()) transactions_->begin();
                if (transactions_->due(Clock::now(), options_.transaction_interval))
                    commit_transaction(commit_deadline());
            } else {
                delivery_.flush_audit(false);
                store_offsets();
            }
        }
        shut_down();
    }

    // After a failure (a fatal client error, a fenced producer): the consumer goes without
    // closing, so no revoke callback commits anything or runs on a half-destroyed worker; the
    // group reassigns the partitions once the session times out.
    void abandon_group() {
        if (lag_) lag_->stop();  // its thread queries the consumer
        if (!keep_if_destroy_may_abort()) kafka::abandon_consumer(std::move(consumer_), abandon_timeout);
    }

    struct Consumed {
        kafka::MessagePtr message;
        uint32_t epoch;
    };

    // Waits until the brokers answer (a start-up outage is waited out, not ready meanwhile), then
    // requires every topic the worker reads or writes. False when stopped while waiting.
    bool check_cluster() {
        kafka::BrokerWait wait;
        wait.stop = &stop_;
        wait.on_turn = [this] { bump([](WorkerStats& s) { s.last_progress = Clock::now(); }); };
        return kafka::check_cluster(consumer_.get(), broker_health_, options_.brokers,
                                    {options_.input_topic, "--input-topic"}, options_.topics, wait,
                                    audit_required_topic())
            .has_value();
    }

    // Whether this member records the admin endpoint's calls (the first, with an audit trail).
    bool records_admin_calls() const { return audit_ && options_.admin_audit && options_.member_index == 0; }

    // The admin endpoint's calls since the last turn, into the audit trail.
    void take_admin_calls() {
        if (!records_admin_calls()) return;
        for (const AdminAuditEntry& call : options_.admin_audit->take()) audit_->record_admin(call);
    }

    std::vector<kafka::RequiredTopic> audit_required_topic() const {
        if (options_.audit_topic.empty()) return {};
        return {{options_.audit_topic, "--audit-topic"}};
    }

    void subscribe() {
        kafka::PartitionListPtr topics = kafka::make_partition_list(1);
        rd_kafka_topic_partition_list_add(topics.get(), options_.input_topic.c_str(), RD_KAFKA_PARTITION_UA);
        if (rd_kafka_resp_err_t err = rd_kafka_subscribe(consumer_.get(), topics.get())) {
            throw std::runtime_error("cannot subscribe to " + options_.input_topic + ": " + rd_kafka_err2str(err));
        }
    }

    // Collects up to batch_size messages, waiting at most batch_wait for the first ones.
    void fill_batch() {
        const auto deadline = Clock::now() + options_.batch_wait;
        while (batch_.size() < options_.batch_size && !stop_.load(std::memory_order_relaxed)) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
            const int timeout = batch_.empty() ? static_cast<int>(std::max<int64_t>(left.count(), 0)) : 0;
            if (!poll_consumer(timeout) && (!batch_.empty() || left.count() <= 0)) break;
        }
    }

    // While the team store is away the partitions are paused; polling still serves rebalances and
    // keeps this member in the group (max.poll.interval.ms).
    void serve_while_store_waits() {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(store_retry_at_ - Clock::now());
        poll_consumer(static_cast<int>(std::clamp<int64_t>(left.count(), 0, 100)));
    }

    // One consumer poll; a message of a partition we own joins the batch. False when none came.
    bool poll_consumer(int timeout_ms) {
        const auto asked = Clock::now();
        rd_kafka_message_t* raw = rd_kafka_consumer_poll(consumer_.get(), timeout_ms);
        if (callback_failure_) {
            kafka::MessagePtr discard(raw);
            std::rethrow_exception(std::exchange(callback_failure_, nullptr));
        }
        if (!raw) {
            if (timeout_ms > 0) count_fetch_stall(Clock::now() - asked);
            return false;
        }
        kafka::MessagePtr message(raw);
        if (message->err) {
            consumer_error(*message);
            return true;
        }
        const std::optional<uint32_t> epoch = delivery_.epoch_of(message->partition);
        if (!epoch) return true;  // not ours (any more): the owner re-reads it
        batch_.push_back({std::move(message), *epoch});
        return true;
    }

    // An empty wait for input while the broker holds more than was fetched is the fetcher's
    // fault (its back-off, a slow broker), not a lack of input: counted, as it should stay near 0.
    // A paused consumer waits on purpose.
    void count_fetch_stall(Clock::duration waited) {
        if (paused_ || !kafka::unfetched_input(consumer_.get(), options_.input_topic, delivery_.partitions())) return;
        bump([waited](WorkerStats& s) { s.fetch_stall += waited; });
    }

    void consumer_error(const rd_kafka_message_t& message) {
        if (message.err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return;
        char errstr[512];
        if (rd_kafka_fatal_error(consumer_.get(), errstr, sizeof errstr)) {
            throw std::runtime_error(std::string("fatal consumer error: ") + errstr);
        }
        log::warn("consumer error", {{"error", rd_kafka_message_errstr(&message)}});
    }

    void process_batch() {
        // A rebalance while the batch was filled may have revoked some of its partitions.
        std::erase_if(batch_,
                      [this](const Consumed& c) { return delivery_.epoch_of(c.message->partition) != c.epoch; });
        if (batch_.empty()) {  // all revoked: an empty batch would not ask the store
            if (store_waiting_) probe_store();
            return;
        }
        const auto started = Clock::now();
        build_views();
        result_.clear();
        const BatchProcessor::Status status = processor_.process(views_, result_);
        if (status != BatchProcessor::Status::done) {
            wait_for_store(status);  // the batch is kept and retried; its offsets cannot advance
            return;
        }
        store_answered();

        uint64_t consumed_bytes = 0;
        DestinationBytes produced_bytes{};
        if (transactions_) transactions_->begin();
        for (size_t i = 0; i < batch_.size(); ++i) {
            const rd_kafka_message_t& m = *batch_[i].message;
            const MessageOutcome& outcome = result_.outcomes[i];
            if (log::enabled(log::Level::debug)) log_outcome(m, outcome, result_);
            const DestinationBytes sent = delivery_.deliver({m.partition, m.offset, batch_[i].epoch}, outcome, result_);
            for (size_t d = 0; d < destination_count; ++d) produced_bytes[d] += sent[d];
            consumed_bytes += m.key_len + m.len;
            if (transactions_) transactions_->processed(m.partition, m.offset + 1);
        }
        for (const Consumed& c : batch_) lag_->set_first_base(c.message->partition, c.message->offset);
        {
            std::lock_guard lock(stats_mutex_);
            stats_.outcomes.add(result_);
            ++stats_.batches;
            stats_.consumed_bytes += consumed_bytes;
            for (size_t d = 0; d < destination_count; ++d) stats_.produced_bytes[d] += produced_bytes[d];
            stats_.batch_latency.record(Clock::now() - started);
        }
        batch_.clear();  // releases the fetched buffers promptly
    }

    // Asks the team store whether it answers while no batch needs it (at start-up, or while
    // waiting after the held batch was revoked), so readiness follows the store without events.
    void probe_store() {
        const BatchProcessor::Status status = processor_.check_store();
        if (status == BatchProcessor::Status::done) {
            store_answered();
        } else {
            wait_for_store(status);
        }
    }

    // A long-running worker never gives up on the store, whatever the failure: it holds its
    // offsets, is not ready, and says why once per report interval until someone fixes it.
    void wait_for_store(BatchProcessor::Status status) {
        const auto now = Clock::now();
        const std::chrono::milliseconds delay = store_retry_.failed(now).value_or(store_retry_.options().max_delay);
        store_retry_at_ = now + delay;
        const std::string cause = cache_.last_error().value_or("no answer");
        if (!store_waiting_) {
            store_waiting_ = true;
            update_pause();
        }
        set_store_available(false, cause);
        if (!batch_.empty()) bump([](WorkerStats& s) { ++s.store_waits; });
        if (!store_retry_.report_due(now, cause)) return;
        const std::initializer_list<log::Field> fields = {{"error", cause},
                                                          {"retry_in_ms", std::to_string(delay.count())},
                                                          {"messages", std::to_string(batch_.size())}};
        if (status == BatchProcessor::Status::store_failed) {
            log::error("team store failed; processing waits until it is fixed, offsets held", fields);
        } else {
            log::warn("team store unavailable; processing waits and retries", fields);
        }
    }

    void store_answered() {
        store_retry_.succeeded();
        if (!store_waiting_) return;
        store_waiting_ = false;
        log::info("team store available again; processing resumes");
        update_pause();
        set_store_available(true, "");
    }

    void set_store_available(bool available, const std::string& cause) {
        std::lock_guard lock(stats_mutex_);
        stats_.store_available = available;
        stats_.store_error = cause;
    }

    // One debug line per message. The input key is not logged: it starts with the sender's
    // token, which may be a secret of any shape; the output key (team_id:distinct_id) is.
    static void log_outcome(const rd_kafka_message_t& m, const MessageOutcome& outcome, const BatchResult& result) {
        std::string what = outcome.drop          ? "dropped: " + std::string(to_string(*outcome.drop))
                           : outcome.dead_letter ? "dead-lettered: " + std::string(to_string(*outcome.dead_letter))
                           : outcome.verification == Verification::verified ? "verified"
                           : outcome.verification == Verification::stripped ? "forged $verified stripped"
                                                                            : "routed";
        const OutputRecord* first = outcome.record_count ? &result.records[outcome.first_record] : nullptr;
        const bool keyed = first && first->destination != Destination::dead_letter && first->key;
        log::debug("message processed", {{"partition", std::to_string(m.partition)},
                                         {"offset", std::to_string(m.offset)},
                                         {"output_key", keyed ? *first->key : ""},
                                         {"outcome", what},
                                         {"outputs", std::to_string(outcome.record_count)}});
    }

    void build_views() {
        consumed_views_.clear();
        for (const Consumed& c : batch_) consumed_views_.add(*c.message);
        views_ = consumed_views_.views(options_.input_topic);
    }

    // Hands librdkafka the committable offset of each partition; auto-commit sends them.
    void store_offsets() {
        kafka::PartitionListPtr offsets;
        for (const int32_t partition : delivery_.partitions()) {
            if (std::optional<int64_t> next = delivery_.take_committable(partition)) {
                lag_->set_base(partition, *next);
                if (!offsets) offsets = kafka::make_partition_list(static_cast<int>(delivery_.partitions().size()));
                rd_kafka_topic_partition_list_add(offsets.get(), options_.input_topic.c_str(), partition)->offset =
                    *next;
            }
        }
        if (!offsets) return;
        if (rd_kafka_resp_err_t err = rd_kafka_offsets_store(consumer_.get(), offsets.get())) {
            // Only partitions revoked in the meantime can fail; their new owner re-reads them.
            log::debug("offset store refused", {{"error", rd_kafka_err2str(err)}});
        }
    }

    // Pauses fetching while too many outputs await acknowledgement; resumes below half the cap.
    void apply_backpressure() {
        const size_t in_flight = delivery_.in_flight();
        if (!backpressure_ && in_flight > options_.max_in_flight) {
            backpressure_ = true;
            update_pause();
        } else if (backpressure_ && in_flight <= options_.max_in_flight / 2) {
            backpressure_ = false;
            update_pause();
        }
        if (backpressure_) delivery_.poll(std::chrono::milliseconds(10));
        std::lock_guard lock(stats_mutex_);
        if (stats_.in_flight == 0 && in_flight > 0) stats_.outputs_waiting_since = Clock::now();
        stats_.in_flight = in_flight;
        stats_.producer_queue = producer_.queue_length();
        stats_.delivered = producer_.delivered();
        stats_.delivery_errors = producer_.delivery_errors();
        delivery_.collect_refused(stats_.outcomes);
        stats_.dead_letters_cut = producer_.dead_letters_cut();
        stats_.last_delivery = producer_.last_delivery();
        stats_.paused = paused_;
        stats_.last_progress = Clock::now();
        stats_.team_cache = cache_.stats();
        if (audit_) {
            stats_.audit_occurrences = audit_->occurrences();
            stats_.audit_records = audit_->records_taken();
        }
    }

    // Fetching is paused while either the producer is behind or the team store is away.
    void update_pause() {
        const bool want = backpressure_ || store_waiting_;
        if (want != paused_) set_paused(want);
    }

    void set_paused(bool paused) {
        rd_kafka_topic_partition_list_t* assignment = nullptr;
        if (rd_kafka_assignment(consumer_.get(), &assignment) != RD_KAFKA_RESP_ERR_NO_ERROR) return;
        kafka::PartitionListPtr owned(assignment);
        if (paused) {
            rd_kafka_pause_partitions(consumer_.get(), owned.get());
        } else {
            rd_kafka_resume_partitions(consumer_.get(), owned.get());
        }
        paused_ = paused;
        log::info(paused ? "fetching paused" : "fetching resumed",
                  {{"in_flight", std::to_string(delivery_.in_flight())},
                   {"reason", backpressure_    ? "outputs in flight"
                              : store_waiting_ ? "team store unavailable"
                                               : "none"}});
    }

    // Called from inside rd_kafka_consumer_poll: an exception must not cross librdkafka's C frames,
    // so a failure is kept and rethrown once the poll returns.
    static void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions,
                             void* opaque) {
        auto* self = static_cast<Impl*>(opaque);
        try {
            self->rebalance(rk, err, partitions);
        } catch (...) {
            self->callback_failure_ = std::current_exception();
        }
    }

    static void on_client_error(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
        static_cast<Impl*>(opaque)->broker_health_.client_error(rk, static_cast<rd_kafka_resp_err_t>(err), reason);
    }

    void rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions) {
        // The protocol is asked each time, as the assignor in use decides it; a consumer that is
        // closing may no longer answer (NULL: its group's queue is gone), and its revocation then
        // goes by the answer of the rebalances before, which always come first.
        if (const char* protocol = rd_kafka_rebalance_protocol(rk); protocol && std::strcmp(protocol, "NONE") != 0) {
            cooperative_ = std::strcmp(protocol, "COOPERATIVE") == 0;
        }
        const bool cooperative = cooperative_;
        const bool assigning = err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS;
        // The client waits for the (un)assignment even to be destroyed: it is made whatever
        // handling the rebalance did, a failure (say, a fenced producer) included.
        const auto complete = [&] {
            if (cooperative) {
                kafka::ErrorPtr(assigning ? rd_kafka_incremental_assign(rk, partitions)
                                          : rd_kafka_incremental_unassign(rk, partitions));
            } else {
                rd_kafka_assign(rk, assigning ? partitions : nullptr);
            }
        };
        try {
            if (assigning) {
                assigned(*partitions);
            } else {
                revoked(*partitions, rd_kafka_assignment_lost(rk) != 0);
            }
        } catch (...) {
            complete();
            throw;
        }
        complete();
        // A paused worker keeps new partitions paused too.
        if (paused_ && assigning) rd_kafka_pause_partitions(rk, partitions);
    }

    void assigned(const rd_kafka_topic_partition_list_t& partitions) {
        for (int i = 0; i < partitions.cnt; ++i) {
            delivery_.assign(partitions.elems[i].partition);
            lag_->assigned(partitions.elems[i].partition);
        }
        log::info("partitions assigned", {{"partitions", partitions_text(partitions)}});
        std::lock_guard lock(stats_mutex_);
        ++stats_.rebalances;
        stats_.assigned_partitions = delivery_.partitions().size();
        // Any assignment, an empty one included, means the group took this member in.
        stats_.group_joined = true;
        ever_assigned_ = true;
        stats_.group_lost = false;
    }

    // Finishes the revoked partitions' in-flight outputs, commits their acknowledged prefix, and
    // forgets them. Lost partitions (the group moved on without us) are only forgotten.
    void revoked(const rd_kafka_topic_partition_list_t& partitions, bool lost) {
        std::vector<int32_t> revoked;
        revoked.reserve(static_cast<size_t>(partitions.cnt));
        for (int i = 0; i < partitions.cnt; ++i) revoked.push_back(partitions.elems[i].partition);
        if (transactions_) {
            // The open transaction holds work of the revoked partitions: it ends before they go.
            if (lost) {
                // The whole assignment went, so nothing is left to rewind.
                transactions_->abort(commit_deadline());
                delivery_.discard_audit();  // its occurrences are processed again by the new owners
                batch_.clear();
                copy_transaction_stats();
            } else {
                commit_transaction(commit_deadline());
            }
        } else if (!lost) {
            // While stopping, the shutdown deadline bounds this drain too (consumer_close revokes).
            const auto deadline = commit_deadline();
            if (!delivery_.drain(revoked, deadline)) {
                log::warn("revoked partitions still had unacknowledged outputs; their new owner redoes them",
                          {{"partitions", partitions_text(partitions)}});
            }
            store_offsets();
            commit_now();
        }
        for (const int32_t partition : revoked) {
            delivery_.forget(partition);
            lag_->forget(partition);
        }
        log::info(lost ? "partitions lost" : "partitions revoked", {{"partitions", partitions_text(partitions)}});
        std::lock_guard lock(stats_mutex_);
        ++stats_.rebalances;
        stats_.assigned_partitions = delivery_.partitions().size();
        if (lost) {
            stats_.group_joined = false;  // the group moved on without this member, until it rejoins
            stats_.group_lost = true;
        }
    }

    // How long a drain or a transaction's commit may take: the revoke timeout, and while stopping
    // no later than the shutdown deadline.
    Clock::time_point commit_deadline() const {
        const auto deadline = Clock::now() + options_.revoke_timeout;
        return shutdown_deadline_ ? std::min(deadline, *shutdown_deadline_) : deadline;
    }

    // Exactly-once: commits the open transaction; when it had to be aborted instead, processes its
    // inputs again from the committed offsets.
    void commit_transaction(Clock::time_point deadline) {
        const kafka::Transactions::Outcome outcome = transactions_->commit(delivery_, deadline);
        if (outcome == kafka::Transactions::Outcome::aborted) {
            rewind();
        } else {
            for (const auto& [partition, offset] : transactions_->last_committed()) {
                if (delivery_.epoch_of(partition)) lag_->set_base(partition, offset);
            }
        }
        copy_transaction_stats();
    }

    void copy_transaction_stats() {
        const kafka::Transactions::Stats& t = transactions_->stats();
        std::lock_guard lock(stats_mutex_);
        stats_.transactions_committed = t.committed;
        stats_.transactions_aborted = t.aborted;
        stats_.transaction_duration = t.duration;
    }

    // After an aborted transaction: every assigned partition goes back to its committed offset.
    // Batched and prefetched messages past it are dropped (new epochs; the seek discards what the
    // consumer fetched before it). A worker that is stopping processes nothing more: no rewind.
    void rewind() {
        batch_.clear();
        delivery_.discard_audit();  // its occurrences are processed again
        rd_kafka_topic_partition_list_t* assignment = nullptr;
        if (rd_kafka_assignment(consumer_.get(), &assignment) != RD_KAFKA_RESP_ERR_NO_ERROR) return;
        kafka::PartitionListPtr owned(assignment);
        const std::vector<int32_t> partitions(delivery_.partitions().begin(), delivery_.partitions().end());
        for (const int32_t partition : partitions) delivery_.assign(partition);
        if (owned->cnt == 0 || !read_committed_offsets(*owned)) return;
        for (int i = 0; i < owned->cnt; ++i) {
            if (owned->elems[i].offset < 0) owned->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
        }
        // A seek waits for each partition's fetcher; while a leader is down it times out, and is
        // asked again (nothing is consumed meanwhile, so nothing past the offsets slips through).
        bool reported = false;
        for (;;) {
            kafka::ErrorPtr error{rd_kafka_seek_partitions(consumer_.get(), owned.get(), 10'000)};
            if (!error) break;
            if (rd_kafka_error_code(error.get()) != RD_KAFKA_RESP_ERR__TIMED_OUT) {
                throw std::runtime_error(std::string("cannot rewind to the committed offsets: ") +
                                         rd_kafka_error_string(error.get()));
            }
            if (stop_.load(std::memory_order_relaxed)) return;  // stopping: nothing more is processed
            if (!reported) {
                log::warn("the partitions' leaders do not answer; retrying the rewind to the committed offsets",
                          {{"error", rd_kafka_error_string(error.get())}});
                reported = true;
            }
        }
        log::info("partitions rewound to their committed offsets", {{"partitions", partitions_text(*owned)}});
    }

    // Reads the group's committed offsets of `partitions`, waiting out a coordinator that does not
    // answer (nothing can be processed before them); false when stopped first.
    bool read_committed_offsets(rd_kafka_topic_partition_list_t& partitions) {
        bool reported = false;
        while (!stop_.load(std::memory_order_relaxed)) {
            const rd_kafka_resp_err_t err = rd_kafka_committed(consumer_.get(), &partitions, 5'000);
            if (!err) return true;
            if (!kafka::coordinator_in_flux(err)) {
                throw std::runtime_error(std::string("cannot read the committed offsets to rewind to: ") +
                                         rd_kafka_err2str(err));
            }
            if (!reported) {
                log::warn("the group coordinator does not answer; retrying to read the committed offsets",
                          {{"error", rd_kafka_err2str(err)}});
                reported = true;
            }
        }
        return false;
    }

    // librdkafka before 2.3 aborts when it destroys a (cooperative-)sticky consumer that joined its
    // group but never had an assignment: the assignor's state is still null
    // (confluentinc/librdkafka#4312).
    bool destroy_may_abort() const {
        return consumer_ && !ever_assigned_ && rd_kafka_version() < unassigned_destroy_fixed_version;
    }

    // Such a consumer is kept until the process exits instead. Waiting for the assignment is no
    // answer: a sibling slow to rejoin may hold the group's join phase open beyond any deadline.
    // Kept also when the member may not have joined: a JoinGroup answer may land just before it
    // starts leaving, and a closed consumer no longer tells which protocol it chose.
    bool keep_if_destroy_may_abort() {
        if (!destroy_may_abort()) return false;
        log::info("this member never had an assignment; its consumer is kept until the process exits",
                  {{"librdkafka", rd_kafka_version_str()}});
        kafka::keep_until_exit(std::move(consumer_));
        return true;
    }

    void commit_now() {
        const rd_kafka_resp_err_t err = rd_kafka_commit(consumer_.get(), nullptr, 0);
        if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
            bump([](WorkerStats& s) { ++s.commit_failures; });
            log::warn("commit failed; the uncommitted range will be processed again",
                      {{"error", rd_kafka_err2str(err)}});
        }
    }

    void shut_down() {
        if (lag_) lag_->stop();
        log::info("stopping: draining in-flight outputs", {{"in_flight", std::to_string(delivery_.in_flight())}});
        batch_.clear();
        shutdown_deadline_ = Clock::now() + options_.shutdown_timeout;
        // From here on the endpoint acts on no call: none could be recorded. Those taken go out with
        // the last outputs.
        if (records_admin_calls()) options_.admin_audit->close();
        take_admin_calls();
        if (transactions_) {
            if (!transactions_->open() && audit_ && !audit_->empty()) transactions_->begin();
            if (transactions_->open()) commit_transaction(*shutdown_deadline_);
        } else {
            if (!delivery_.drain_all(*shutdown_deadline_)) {
                log::warn("shutdown deadline reached with unacknowledged outputs; they are redone after restart",
                          {{"in_flight", std::to_string(delivery_.in_flight())}});
            }
            store_offsets();
            commit_now();
        }
        if (options_.departure_gate)
            options_.departure_gate->arrive_and_wait(options_.member_index, *shutdown_deadline_);
        // Leaves the group; the revoke callback commits again (a no-op when nothing moved).
        if (rd_kafka_resp_err_t err = rd_kafka_consumer_close(consumer_.get())) {
            log::warn("leaving the group failed", {{"error", rd_kafka_err2str(err)}});
        }
        keep_if_destroy_may_abort();
        if (callback_failure_) std::rethrow_exception(std::exchange(callback_failure_, nullptr));
        log::info("stopped");
    }

    template <typename F>
    void bump(F&& f) {
        std::lock_guard lock(stats_mutex_);
        f(stats_);
    }

    WorkerOptions options_;
    const std::atomic<bool>& stop_;
    TeamCache& cache_;
    kafka::BrokerHealth broker_health_;  // outlives the clients, whose callbacks use it
    std::optional<AuditTrail> audit_;    // with an audit topic; the processor and delivery use it
    BatchProcessor processor_;
    kafka::OutputProducer producer_;  // the sink; read directly only for its Kafka figures
    Delivery delivery_;               // owns the assigned partitions, their epochs and offsets
    kafka::ClientPtr consumer_;
    std::unique_ptr<kafka::Transactions> transactions_;  // exactly-once only

    bool paused_ = false;         // as set on the consumer
    bool backpressure_ = false;   // too many outputs in flight
    bool store_waiting_ = false;  // the team store does not answer: the held batch (if any) waits
    RetryPolicy store_retry_;     // unbounded: `run` waits out any outage
    Clock::time_point store_retry_at_{};
    std::exception_ptr callback_failure_;
    bool ever_assigned_ = false;  // the group gave this member an assignment, an empty one included
    bool cooperative_ = true;     // the rebalance protocol last reported (warden asks for cooperative-sticky)
    std::optional<Clock::time_point> shutdown_deadline_;  // set once stopping

    std::vector<Consumed> batch_;
    kafka::ConsumedViews consumed_views_;
    std::span<const MessageView> views_;
    BatchResult result_;

    mutable std::mutex stats_mutex_;
    WorkerStats stats_;

    std::unique_ptr<kafka::LagWatch> lag_;  // created when run() starts
};

void DepartureGate::arrive_and_wait(size_t member, std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    arrived_.at(member) = true;
    all_arrived_.notify_all();
    const bool together = all_arrived_.wait_until(
        lock, deadline, [this] { return std::all_of(arrived_.begin(), arrived_.end(), [](bool a) { return a; }); });
    if (!together)
        log::warn("leaving the group before every member of this process committed: the shutdown deadline came");
}

void DepartureGate::arrive(size_t member) {
    std::lock_guard lock(mutex_);
    arrived_.at(member) = true;
    all_arrived_.notify_all();
}

Worker::Worker(WorkerOptions options, TeamCache& cache)
    : impl_(std::make_unique<Impl>(std::move(options), cache, stop_)) {}

Worker::~Worker() = default;

void Worker::run() { impl_->run(); }

WorkerStats Worker::stats() const { return impl_->stats(); }

}  // namespace warden
