// The replay checkpoint file: what the replay was asked for, each partition's fixed range and its
// acknowledged prefix.
#pragma once

#include <warden/replay.hpp>

#include <optional>
#include <string>
#include <vector>

namespace warden::kafka {

// The range a replay was asked for, besides its topic, in a canonical spelling that the flags
// accept again: `earliest`, `latest`, `offset:N` or `time:MS`, and the partitions sorted
// ("0,3,7") or `all`. A rerun with the checkpoint must ask the same: the checkpoint's resolved
// ranges answer that request and no other.
struct ReplayRange {
    std::string from;
    std::string to;
    std::string partitions;
    bool operator==(const ReplayRange&) const = default;
};

ReplayRange replay_range(const ReplayOptions& options);

struct ReplayCheckpoint {
    std::string topic;
    std::optional<ReplayRange> range;           // absent in checkpoints of warden before version 2
    std::string transactional_id;               // an exactly-once replay's identity; empty: at-least-once
    std::vector<PartitionProgress> partitions;  // start, end and acked are recorded
};

// Nothing when the file does not exist. Throws std::runtime_error when it exists but cannot be read
// or is not a checkpoint.
std::optional<ReplayCheckpoint> read_checkpoint(const std::string& path);

// Why the checkpoint at `path` cannot serve a replay of `options`: another topic, another
// --from, --to or --partitions (naming the setting and both values), another processing
// guarantee, or no recorded range (an older checkpoint, which cannot be checked). Empty when it can. The message says
// that deleting the checkpoint starts the replay afresh.
std::string checkpoint_mismatch(const std::string& path, const ReplayCheckpoint& checkpoint,
                                const ReplayOptions& options);

// Written to a new file of a unique name in the same directory, flushed to disk and renamed over
// `path`, so a crash never leaves half a checkpoint and no existing file or link is written
// through. Throws std::runtime_error on I/O failure.
void write_checkpoint(const std::string& path, const ReplayCheckpoint& checkpoint);

}  // namespace warden::kafka
