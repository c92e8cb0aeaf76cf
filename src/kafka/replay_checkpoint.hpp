// The replay checkpoint file: each partition's fixed range and its acknowledged prefix.
#pragma once

#include <warden/kafka.hpp>

#include <optional>
#include <string>
#include <vector>

namespace warden::kafka {

struct ReplayCheckpoint {
    std::string topic;
    std::vector<PartitionProgress> partitions;  // start, end and acked are recorded
};

// Nothing when the file does not exist. Throws std::runtime_error when it exists but cannot be read
// or is not a checkpoint.
std::optional<ReplayCheckpoint> read_checkpoint(const std::string& path);

// Written to a temporary file and renamed, so a crash never leaves half a checkpoint. Throws
// std::runtime_error on I/O failure.
void write_checkpoint(const std::string& path, const ReplayCheckpoint& checkpoint);

}  // namespace warden::kafka
