// files: the offline `process` mode's input lines (kcat -J envelopes or bare values) and
// per-topic JSONL outputs.
#pragma once

#include <warden/core.hpp>
#include <warden/pipeline.hpp>

#include <chrono>
#include <filesystem>
#include <istream>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <span>
#include <string>

namespace warden {

inline constexpr std::string_view default_input_topic = "events_plugin_ingestion";

// An input message that owns its bytes; view() borrows from it.
struct OwnedMessage {
    std::string topic;
    int32_t partition = 0;
    int64_t offset = 0;
    std::optional<std::string> key;
    HeaderList headers;
    std::optional<std::string> value;

    MessageView view(std::vector<HeaderView>& header_storage) const;
};

// A line that is a JSON object with a "payload" member is a kcat -J envelope; anything else
// (including a malformed envelope) is taken whole as a bare message value, so it still reaches
// an outcome. `line_number` is the offset of bare values.
OwnedMessage parse_input_line(std::string_view line, int64_t line_number);
// The same into `m`, reusing its memory: a stream of lines allocates nothing per line.
void read_input_line(std::string_view line, int64_t line_number, OwnedMessage& m);

// One output line: {"topic","partition","key","headers":[name,value,...],"payload"}.
std::string envelope_json(const std::string& topic, const OutputRecord& record);
// The same line appended to `out`, without its newline.
void append_envelope_json(std::string& out, std::string_view topic, const OutputRecord& record);

struct ProcessFilesOptions {
    std::filesystem::path output_dir;
    size_t batch_size = 1000;
    // Longest wait for a team store that is unavailable before giving up.
    std::chrono::milliseconds store_wait_timeout{300'000};
    // With audit trails on the processors (BatchProcessor::set_audit): DIR/<audit_topic>.jsonl
    // receives their records, merged, once the input is done.
    std::string audit_topic{};
};

// Runs every line of `input` through `processor`, writing DIR/<topic>.jsonl. Waits (with backoff)
// while the team store is unavailable. Throws std::runtime_error on an I/O failure, a permanent
// store failure, or a store still unavailable after `store_wait_timeout`.
OutcomeCounters process_stream(std::istream& input, BatchProcessor& processor, const ProcessFilesOptions& options);
// The same with one thread per processor, each processor used by its thread alone (so each needs
// a team cache of its own). Batches are spread over the threads and their outputs written in
// input order: the files are the same whatever the number of processors.
OutcomeCounters process_stream(std::istream& input, std::span<BatchProcessor* const> processors,
                               const ProcessFilesOptions& options);

}  // namespace warden
