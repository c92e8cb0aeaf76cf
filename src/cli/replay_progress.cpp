#include "replay_progress.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

namespace warden::cli {
namespace {

struct Totals {
    int64_t done = 0, total = 0;
    size_t partitions_done = 0;
};

int64_t done_of(const PartitionProgress& p) { return std::min(p.consumed, p.end) - p.start; }
int64_t remaining_of(const PartitionProgress& p) { return p.end - std::min(p.consumed, p.end); }

Totals totals(const ReplayProgress& p) {
    Totals t;
    for (const PartitionProgress& part : p.partitions) {
        t.total += part.end - part.start;
        t.done += done_of(part);
        if (part.done) ++t.partitions_done;
    }
    return t;
}

double seconds_of(const ReplayProgress& p) { return std::chrono::duration<double>(p.elapsed).count(); }

std::string format(const char* pattern, auto... values) {
    char buf[256];
    std::snprintf(buf, sizeof buf, pattern, values...);
    return buf;
}

std::string eta(int64_t remaining, double rate) {
    if (remaining <= 0) return "0s";
    if (rate <= 0) return "?";
    const auto s = static_cast<int64_t>(static_cast<double>(remaining) / rate);
    return std::to_string(s / 60) + "m" + std::to_string(s % 60) + "s";
}

std::string bar(const std::string& label, int64_t done, int64_t total) {
    constexpr int width = 30;
    const int filled = total > 0 ? static_cast<int>(width * done / total) : width;
    return format("%-6s [%s%s] %" PRId64 "/%" PRId64 " remaining %" PRId64, label.c_str(),
                  std::string(static_cast<size_t>(filled), '#').c_str(),
                  std::string(static_cast<size_t>(width - filled), '.').c_str(), done, total, total - done);
}

}  // namespace

std::vector<PartitionProgress> slowest_partitions(const ReplayProgress& progress, size_t count) {
    std::vector<PartitionProgress> open;
    for (const PartitionProgress& p : progress.partitions) {
        if (!p.done && remaining_of(p) > 0) open.push_back(p);
    }
    const size_t shown = std::min(count, open.size());
    std::partial_sort(open.begin(), open.begin() + static_cast<std::ptrdiff_t>(shown), open.end(),
                      [](const PartitionProgress& a, const PartitionProgress& b) {
                          return remaining_of(a) != remaining_of(b) ? remaining_of(a) > remaining_of(b)
                                                                    : a.partition < b.partition;
                      });
    open.resize(shown);
    return open;
}

std::string progress_json(const ReplayProgress& p) {
    const Totals t = totals(p);
    const double seconds = seconds_of(p);
    std::string line =
        R"({"progress":{"done":)" + std::to_string(t.done) + ",\"total\":" + std::to_string(t.total) +
        ",\"remaining\":" + std::to_string(t.total - t.done) + format(",\"elapsed_s\":%.3f", seconds) +
        format(",\"rate\":%.1f", seconds > 0 ? static_cast<double>(p.outcomes.consumed) / seconds : 0.0) +
        ",\"consumed\":" + std::to_string(p.outcomes.consumed) +
        ",\"partitions_total\":" + std::to_string(p.partitions.size()) +
        ",\"partitions_done\":" + std::to_string(t.partitions_done) + ",\"slowest\":[";
    const std::vector<PartitionProgress> slowest = slowest_partitions(p);
    for (size_t i = 0; i < slowest.size(); ++i) {
        const PartitionProgress& part = slowest[i];
        if (i) line += ',';
        line += "{\"partition\":" + std::to_string(part.partition) + ",\"done\":" + std::to_string(done_of(part)) +
                ",\"remaining\":" + std::to_string(remaining_of(part)) + ",\"acked\":" + std::to_string(part.acked) +
                ",\"end\":" + std::to_string(part.end) + "}";
    }
    return line + "]}}\n";
}

std::string TerminalProgress::render(const ReplayProgress& p) {
    const Totals t = totals(p);
    if (base_ < 0) base_ = t.done;
    const double seconds = seconds_of(p);
    const double rate = seconds > 0 ? static_cast<double>(t.done - base_) / seconds : 0;
    std::string out;
    if (lines_ > 0) out += "\x1b[" + std::to_string(lines_) + "F";  // back to the first line
    out += bar("total", t.done, t.total) +
           format("  %.0f ev/s  eta %s\x1b[K\n", rate, eta(t.total - t.done, rate).c_str());
    const std::vector<PartitionProgress> slowest = slowest_partitions(p);
    out += format("       %zu partitions, %zu done%s\x1b[K\n", p.partitions.size(), t.partitions_done,
                  slowest.empty() ? "" : "; slowest:");
    for (const PartitionProgress& part : slowest) {
        std::string label = "p";  // appended, not "p" + ...: GCC 12 warns about that falsely (-Wrestrict)
        label += std::to_string(part.partition);
        out += bar(label, done_of(part), part.end - part.start) + "\x1b[K\n";
    }
    // Lines left over from a longer drawing are cleared.
    const int drawn = 2 + static_cast<int>(slowest.size());
    for (int extra = drawn; extra < lines_; ++extra) out += "\x1b[K\n";
    lines_ = std::max(lines_, drawn);
    return out;
}

}  // namespace warden::cli
