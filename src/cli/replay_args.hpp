// Checks of `warden replay`'s range flags that need more than one value at a time.
#pragma once

#include <warden/replay.hpp>

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace warden::cli {

// Refuses a rerun whose checkpoint (when --checkpoint names an existing one) was written for
// another topic or range, or by a version that did not record its range: resuming it would
// replay the checkpoint's ranges, not the ones asked for. Throws UsageError saying which setting
// differs; std::runtime_error for a checkpoint that cannot be read.
void check_checkpoint(const ReplayOptions& options);

// The partitions of a --partitions list that passed partition_list().
std::vector<int32_t> parse_partition_list(const std::string& text);

// Refuses a range that is empty or inverted whatever the brokers hold: --to earliest (it is
// exclusive), --from latest --to latest, and two offsets or two times with --from not before
// --to. Ends of kinds that only the brokers can compare (an offset and a time, latest and an
// offset) are left to the replay. Throws UsageError quoting the two positions.
// --from and --to: the range of a topic that replay, dlq inspect and dlq redrive read.
void add_range_options(CLI::App& cmd, std::string& from, std::string& to);

void check_replay_range(const OffsetSpec& from, const OffsetSpec& to, const std::string& from_text,
                        const std::string& to_text);

}  // namespace warden::cli
