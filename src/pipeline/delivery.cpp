#include <warden/delivery.hpp>

#include <algorithm>
#include <thread>
#include <utility>

namespace warden {

bool OutputSink::poll_until(const std::function<bool()>& done, Clock::time_point deadline) {
    while (!done()) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) return false;
        poll(std::min(left, std::chrono::milliseconds(50)));
    }
    return true;
}

void DiscardSink::poll(std::chrono::milliseconds timeout) {
    // Nothing to serve: a poll is only a wait (the rate limit's, say).
    if (timeout.count() > 0) std::this_thread::sleep_for(timeout);
}

Delivery::Delivery(OutputSink& sink, TopicNames topics, ExtraHeaders extra_headers)
    : sink_(sink), topics_(std::move(topics)), extra_headers_(std::move(extra_headers)) {
    sink_.on_acknowledged([this](const SourceTag& source) { acknowledged(source); });
}

uint32_t Delivery::assign(int32_t partition) {
    tracker_.forget(partition);  // whatever an earlier assignment left pending is not ours
    const uint32_t epoch = ++next_epoch_;
    if (epochs_.insert_or_assign(partition, epoch).second) partitions_.push_back(partition);
    return epoch;
}

void Delivery::forget(int32_t partition) {
    tracker_.forget(partition);
    if (epochs_.erase(partition)) std::erase(partitions_, partition);
}

std::optional<uint32_t> Delivery::epoch_of(int32_t partition) const {
    const auto it = epochs_.find(partition);
    if (it == epochs_.end()) return std::nullopt;
    return it->second;
}

DestinationBytes Delivery::deliver(const SourceTag& source, const MessageOutcome& outcome, BatchResult& result) {
    // Tracked before sending: an acknowledgement can arrive while send() waits.
    const bool held = outcome.audit_hold && audit_;
    tracker_.track(source.partition, source.offset, outcome.record_count + (held ? 1 : 0));
    if (held) audit_holds_.push_back(source);
    DestinationBytes sent{};
    for (uint32_t r = 0; r < outcome.record_count; ++r) {
        OutputRecord& record = result.records[outcome.first_record + r];
        for (const auto& [name, value] : extra_headers_) record.headers.add(name, value);
        sink_.send(topics_.name_of(record.destination), record, source);
        sent[static_cast<size_t>(record.destination)] +=
            (record.key ? record.key->size() : 0) + (record.value ? record.value->size() : 0);
    }
    return sent;
}

void Delivery::attach_audit(AuditTrail& audit, std::string topic) {
    audit_ = &audit;
    audit_topic_ = std::move(topic);
}

void Delivery::flush_audit(bool force) {
    if (!audit_ || audit_->empty() || (!force && !audit_->due())) return;
    std::vector<OutputRecord> records = audit_->take_records();
    if (records.empty()) {  // nothing to wait for (the trail had nothing to say)
        for (const SourceTag& hold : std::exchange(audit_holds_, {})) acknowledged(hold);
        return;
    }
    const uint64_t id = next_audit_flush_++;
    // Listed before sending: an acknowledgement can arrive while send() waits.
    audit_flushes_.push_back({id, records.size(), std::exchange(audit_holds_, {})});
    for (const OutputRecord& record : records) sink_.send(audit_topic_, record, {audit_partition, int64_t(id), 0});
}

void Delivery::discard_audit() {
    if (audit_) audit_->discard();
    audit_holds_.clear();
}

void Delivery::audit_acknowledged(uint64_t flush) {
    const auto it = std::find_if(audit_flushes_.begin(), audit_flushes_.end(),
                                 [flush](const AuditFlush& f) { return f.id == flush; });
    if (it == audit_flushes_.end() || --it->unacknowledged > 0) return;
    const std::vector<SourceTag> holds = std::move(it->holds);
    audit_flushes_.erase(it);
    for (const SourceTag& hold : holds) acknowledged(hold);
}

bool Delivery::drain_all(OutputSink::Clock::time_point deadline) {
    flush_audit(true);
    return sink_.poll_until([this] { return sink_.in_flight() == 0; }, deadline);
}

bool Delivery::drain(std::span<const int32_t> partitions, OutputSink::Clock::time_point deadline) {
    flush_audit(true);
    return sink_.poll_until(
        [&] {
            return std::all_of(partitions.begin(), partitions.end(),
                               [this](int32_t p) { return tracker_.in_flight(p) == 0; });
        },
        deadline);
}

void Delivery::collect_refused(OutcomeCounters& counters) {
    const uint64_t refused = sink_.take_refused_outputs();
    counters.dead_letters[static_cast<size_t>(DeadLetterReason::message_too_large)] += refused;
    counters.produced[static_cast<size_t>(Destination::dead_letter)] += refused;
}

void Delivery::acknowledged(const SourceTag& source) {
    if (source.partition == audit_partition) return audit_acknowledged(static_cast<uint64_t>(source.offset));
    const auto epoch = epochs_.find(source.partition);
    if (epoch == epochs_.end() || epoch->second != source.epoch) return;  // from an earlier assignment
    tracker_.acknowledge(source.partition, source.offset);
}

}  // namespace warden
