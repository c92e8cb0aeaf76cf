// offset_tracker: which input offsets may be committed, given the outputs acknowledged so far.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>

namespace warden {

// Per-partition record of consumed offsets and their unacknowledged outputs. An offset becomes
// committable only when it and every earlier consumed offset of its partition are fully
// acknowledged, so a crash can duplicate work but never skip it (SPEC §7).
class OffsetTracker {
public:
    // Records a consumed offset with the number of outputs still to be acknowledged (0 for a
    // drop). Offsets of one partition must be tracked in increasing order.
    void track(int32_t partition, int64_t offset, uint32_t outputs);

    // One output of `offset` was acknowledged by the broker. Returns false for an offset that is
    // not tracked (e.g. its partition was revoked meanwhile) or already fully acknowledged.
    bool acknowledge(int32_t partition, int64_t offset);

    // The offset to commit (last fully acknowledged prefix + 1), once, or nothing when the prefix
    // has not moved since the last call.
    std::optional<int64_t> take_commit(int32_t partition);

    // Offsets of the partition still waiting for acknowledgements.
    size_t in_flight(int32_t partition) const;
    size_t in_flight() const;

    // Forgets a partition (revoked or lost); its pending acknowledgements are ignored from now on.
    void forget(int32_t partition);

private:
    struct Pending {
        int64_t offset;
        uint32_t outputs;
    };
    struct Partition {
        std::deque<Pending> pending;         // consumed, not yet part of the acknowledged prefix
        std::optional<int64_t> next_commit;  // prefix end + 1, not yet taken
        std::optional<int64_t> last_tracked;
    };
    void advance(Partition& p);

    std::map<int32_t, Partition> partitions_;
};

}  // namespace warden
