#include <warden/offset_tracker.hpp>

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace warden {

void OffsetTracker::track(int32_t partition, int64_t offset, uint32_t outputs) {
    Partition& p = partitions_[partition];
    if (p.last_tracked && offset <= *p.last_tracked) {
        throw std::logic_error("OffsetTracker: offsets of partition " + std::to_string(partition) +
                               " must increase (got " + std::to_string(offset) + " after " +
                               std::to_string(*p.last_tracked) + ")");
    }
    p.last_tracked = offset;
    p.pending.push_back({offset, outputs});
    advance(p);
}

bool OffsetTracker::acknowledge(int32_t partition, int64_t offset) {
    auto it = partitions_.find(partition);
    if (it == partitions_.end()) return false;
    Partition& p = it->second;
    auto entry = std::lower_bound(p.pending.begin(), p.pending.end(), offset,
                                  [](const Pending& e, int64_t o) { return e.offset < o; });
    if (entry == p.pending.end() || entry->offset != offset || entry->outputs == 0) return false;
    --entry->outputs;
    advance(p);
    return true;
}

void OffsetTracker::advance(Partition& p) {
    while (!p.pending.empty() && p.pending.front().outputs == 0) {
        p.next_commit = p.pending.front().offset + 1;
        p.pending.pop_front();
    }
}

std::optional<int64_t> OffsetTracker::take_commit(int32_t partition) {
    auto it = partitions_.find(partition);
    if (it == partitions_.end()) return std::nullopt;
    return std::exchange(it->second.next_commit, std::nullopt);
}

size_t OffsetTracker::in_flight(int32_t partition) const {
    auto it = partitions_.find(partition);
    return it == partitions_.end() ? 0 : it->second.pending.size();
}

size_t OffsetTracker::in_flight() const {
    size_t n = 0;
    for (const auto& [id, p] : partitions_) n += p.pending.size();
    return n;
}

void OffsetTracker::forget(int32_t partition) { partitions_.erase(partition); }

}  // namespace warden
