// delivery: the stage after the core. It tracks each input offset with its outputs, hands the
// outputs to a sink (the Kafka producer or JSONL files), takes the sink's acknowledgements and
// advances each partition's committable prefix. `run`, `replay` and `process` share it.
#pragma once

#include <warden/audit.hpp>
#include <warden/core.hpp>
#include <warden/offset_tracker.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace warden {

// The input message an output belongs to. `epoch` tells apart two assignments of one partition,
// so a late acknowledgement from before a revoke cannot count for the new owner's offsets.
struct SourceTag {
    int32_t partition = 0;
    int64_t offset = 0;
    uint32_t epoch = 0;
};

// Where outputs go. A sink acknowledges every record it was given exactly once, when the record is
// durable (a broker acknowledgement, a written line), possibly during send() itself; a record it
// cannot deliver as it is (too large, say) it replaces rather than drops.
class OutputSink {
public:
    using Clock = std::chrono::steady_clock;
    using AckHandler = std::function<void(const SourceTag&)>;

    virtual ~OutputSink() = default;

    // Queues a copy of the record for `topic`; may wait while the sink is full (backpressure).
    virtual void send(const std::string& topic, const OutputRecord& record, const SourceTag& source) = 0;
    // Serves acknowledgements and due retries for up to `timeout`.
    virtual void poll(std::chrono::milliseconds timeout) = 0;
    // Records sent and not yet acknowledged.
    virtual size_t in_flight() const = 0;
    // Outputs the sink turned into message_too_large dead letters since the last call.
    virtual uint64_t take_refused_outputs() { return 0; }

    // Polls until `done()` or the deadline; true when done.
    bool poll_until(const std::function<bool()>& done, Clock::time_point deadline);
    // Set once, by the delivery stage that owns the sink's acknowledgements.
    void on_acknowledged(AckHandler handler) { on_ack_ = std::move(handler); }

protected:
    void acknowledge(const SourceTag& source) {
        if (on_ack_) on_ack_(source);
    }

private:
    AckHandler on_ack_;
};

// A sink that keeps nothing and acknowledges at once: a dry run's.
class DiscardSink final : public OutputSink {
public:
    void send(const std::string&, const OutputRecord&, const SourceTag& source) override { acknowledge(source); }
    void poll(std::chrono::milliseconds timeout) override;
    size_t in_flight() const override { return 0; }
};

// Bytes of keys and values handed to the sink, per destination.
using DestinationBytes = std::array<uint64_t, destination_count>;

class Delivery {
public:
    // Headers added to every output (replay marks its outputs `replayed: true`).
    using ExtraHeaders = std::vector<std::pair<std::string, std::string>>;

    // The sink must outlive the delivery stage; its acknowledgements come here from now on.
    Delivery(OutputSink& sink, TopicNames topics, ExtraHeaders extra_headers = {});
    ~Delivery() = default;
    Delivery(const Delivery&) = delete;
    Delivery& operator=(const Delivery&) = delete;
    Delivery(Delivery&&) = delete;
    Delivery& operator=(Delivery&&) = delete;

    // Starts a partition's assignment and returns its epoch; acknowledgements of earlier
    // assignments of the partition are ignored from now on.
    uint32_t assign(int32_t partition);
    // Ends a partition's assignment (revoked, lost, or done): its pending outputs no longer count.
    void forget(int32_t partition);
    // The epoch of the partition's current assignment, if it is assigned.
    std::optional<uint32_t> epoch_of(int32_t partition) const;
    std::span<const int32_t> partitions() const { return partitions_; }

    // Tracks message `outcome` of `result` as the input at `source` and sends its outputs. Offsets
    // of one partition must increase. Returns the key and value bytes sent, per destination.
    DestinationBytes deliver(const SourceTag& source, const MessageOutcome& outcome, BatchResult& result);

    // The offset to commit for the partition (its acknowledged prefix + 1), once, or nothing when
    // the prefix has not moved since the last call.
    std::optional<int64_t> take_committable(int32_t partition) { return tracker_.take_commit(partition); }

    // The audit trail's records go to `topic` through the sink. An input offset the trail holds
    // (MessageOutcome::audit_hold) counts as one more output, acknowledged when every record of
    // its interval is: the offsets of what a record counts are not committed before the record
    // is durable. Both must outlive the delivery stage.
    void attach_audit(AuditTrail& audit, std::string topic);
    // Sends the audit records of an interval that is over, or of the open one with `force`.
    void flush_audit(bool force);
    // Forgets the open audit interval and its holds (their inputs are processed again).
    void discard_audit();

    // Serves the sink for up to `timeout`.
    void poll(std::chrono::milliseconds timeout) { sink_.poll(timeout); }
    // Waits, serving the sink, until every output of the given partitions is acknowledged or the
    // deadline passes; true when they all are. The open audit interval is sent first: it may
    // hold those partitions' offsets.
    bool drain(std::span<const int32_t> partitions, OutputSink::Clock::time_point deadline);
    // The same for every output sent.
    bool drain_all(OutputSink::Clock::time_point deadline);

    // Outputs sent and not yet acknowledged.
    size_t in_flight() const { return sink_.in_flight(); }
    // Counts the outputs the sink replaced by message_too_large dead letters since the last call.
    void collect_refused(OutcomeCounters& counters);

    const TopicNames& topics() const { return topics_; }

private:
    void acknowledged(const SourceTag& source);
    void audit_acknowledged(uint64_t flush);

    // An audit record's acknowledgements come back under this partition, with its flush as offset.
    static constexpr int32_t audit_partition = -1;
    struct AuditFlush {
        uint64_t id = 0;
        size_t unacknowledged = 0;
        std::vector<SourceTag> holds;  // released when every record is acknowledged
    };

    OutputSink& sink_;
    TopicNames topics_;
    ExtraHeaders extra_headers_;
    OffsetTracker tracker_;
    std::unordered_map<int32_t, uint32_t> epochs_;
    std::vector<int32_t> partitions_;  // the assigned ones, in assignment order
    uint32_t next_epoch_ = 0;

    AuditTrail* audit_ = nullptr;
    std::string audit_topic_;
    std::vector<SourceTag> audit_holds_;  // of the open interval
    std::deque<AuditFlush> audit_flushes_;
    uint64_t next_audit_flush_ = 0;
};

}  // namespace warden
