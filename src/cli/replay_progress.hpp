// The replay's progress display: a total and the slowest partitions, as a bar on a terminal or
// as JSON lines, so it stays readable at hundreds of partitions.
#pragma once

#include <warden/replay.hpp>

#include <string>
#include <vector>

namespace warden::cli {

// Partitions shown by name: those with the most left to read.
inline constexpr size_t slowest_partitions_shown = 5;

// The unfinished partitions with the most messages left, most first, at most `count`.
std::vector<PartitionProgress> slowest_partitions(const ReplayProgress& progress,
                                                  size_t count = slowest_partitions_shown);

// One JSON line (with its newline):
// {"progress":{"done","total","remaining","elapsed_s","rate","consumed","partitions_total",
//  "partitions_done","slowest":[{"partition","done","remaining","acked","end"}...]}}
std::string progress_json(const ReplayProgress& progress);

// Redraws, on a terminal, a total line with rate and ETA, a line counting the partitions, and a
// bar per slowest partition.
class TerminalProgress {
public:
    // The text to write: cursor movement back over the previous drawing, then the new one.
    std::string render(const ReplayProgress& progress);

private:
    int lines_ = 0;
    int64_t base_ = -1;  // done when first drawn: a resumed run's rate counts only its own work
};

}  // namespace warden::cli
