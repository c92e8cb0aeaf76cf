// The offline pipeline: lines in, one JSONL file per output topic out.
#include <warden/delivery.hpp>
#include <warden/files.hpp>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>

namespace warden {
namespace {

// One JSONL file per topic. Every topic's file is emptied when the run starts, so a directory
// reused from an earlier run never shows that run's records as this one's.
class TopicFiles {
public:
    TopicFiles(std::filesystem::path dir, const TopicNames& topics, const std::string& audit_topic)
        : dir_(std::move(dir)) {
        for (Destination d :
             {Destination::analytics, Destination::error_tracking, Destination::heatmaps, Destination::dead_letter}) {
            open(topics.name_of(d));
        }
        if (!audit_topic.empty()) open(audit_topic);
    }

    // Output lines made elsewhere, each ending with a newline.
    void write(const std::string& topic, const std::string& lines) {
        if (lines.empty()) return;
        auto it = files_.find(topic);
        if (it == files_.end()) it = open(topic);
        it->second->write(lines.data(), static_cast<std::streamsize>(lines.size()));
        if (!*it->second) throw std::runtime_error("write to " + (dir_ / (topic + ".jsonl")).string() + " failed");
    }

    void close() {
        for (auto& [topic, file] : files_) {
            file->close();
            if (!*file) throw std::runtime_error("closing " + (dir_ / (topic + ".jsonl")).string() + " failed");
        }
    }

private:
    using Files = std::map<std::string, std::unique_ptr<std::ofstream>>;
    Files::iterator open(const std::string& topic) {
        if (auto it = files_.find(topic); it != files_.end()) return it;  // two topics may share a name
        auto path = dir_ / (topic + ".jsonl");
        auto file = std::make_unique<std::ofstream>(path, std::ios::binary | std::ios::trunc);
        if (!*file) throw std::runtime_error("cannot write " + path.string() + ": " + std::strerror(errno));
        return files_.emplace(topic, std::move(file)).first;
    }

    std::filesystem::path dir_;
    Files files_;
};

}  // namespace

// The input is cut into chunks of `batch_size` messages. Each chunk is processed by one lane (a
// processor and what goes with it), on a thread of its own when there are several, and its output
// lines are written into the chunk; the calling thread reads the chunks and writes their outputs
// in input order, so the files are the same whatever the number of lanes.
namespace {

// A piece of the input and, once processed, its outputs. Chunks are reused, keeping their memory.
struct Chunk {
    uint64_t sequence = 0;
    std::string text;  // the messages' lines, one after the other
    struct Line {
        size_t begin = 0, size = 0;
        int64_t number = 0;  // in the input, from 0 (the offset of a bare value)
    };
    std::vector<Line> lines;
    // Output lines per topic, in the order the topic was first written to.
    std::vector<std::pair<std::string, std::string>> outputs;
    OutcomeCounters counters;
    std::exception_ptr failure;

    void clear() {
        text.clear();
        lines.clear();
        for (auto& [topic, block] : outputs) block.clear();
        counters = {};
        failure = nullptr;
    }
    std::string& output_of(const std::string& topic) {
        for (auto& [name, block] : outputs) {
            if (name == topic) return block;
        }
        return outputs.emplace_back(topic, std::string()).second;
    }
};

// The delivery stage's sink for one lane: output lines go into the chunk being processed, and are
// acknowledged at once (they are as durable as the chunk; the files are written in order later).
class ChunkSink final : public OutputSink {
public:
    void send(const std::string& topic, const OutputRecord& record, const SourceTag& source) override {
        std::string& block = chunk->output_of(topic);
        append_envelope_json(block, topic, record);
        block.push_back('\n');
        acknowledge(source);
    }
    void poll(std::chrono::milliseconds) override {}
    size_t in_flight() const override { return 0; }

    Chunk* chunk = nullptr;
};

// A processor and the state it needs to process chunks, used by one thread at a time.
class Lane {
public:
    Lane(BatchProcessor& processor, const ProcessFilesOptions& options)
        : processor_(processor),
          delivery_(sink_, processor.topics()),
          epoch_(delivery_.assign(0)),
          store_waiter_(processor.cache(), RetryPolicy::Options::giving_up_after(options.store_wait_timeout)) {}

    void process(Chunk& chunk) {
        try {
            process_lines(chunk);
        } catch (...) {
            chunk.failure = std::current_exception();
        }
    }

private:
    void process_lines(Chunk& chunk) {
        const size_t count = chunk.lines.size();
        if (messages_.size() < count) {
            messages_.resize(count);
            header_storage_.resize(count);
        }
        views_.clear();
        for (size_t i = 0; i < count; ++i) {
            const Chunk::Line& line = chunk.lines[i];
            read_input_line(std::string_view(chunk.text).substr(line.begin, line.size), line.number, messages_[i]);
            views_.push_back(messages_[i].view(header_storage_[i]));
        }
        // An unavailable store is waited for, never a reason to drop (SPEC §3.5); past the bounded
        // wait, or when it failed for good, the command ends with the cause.
        store_waiter_.until_done([&] {
            result_.clear();
            return processor_.process(views_, result_);
        });
        sink_.chunk = &chunk;
        for (const MessageOutcome& outcome : result_.outcomes)
            delivery_.deliver({0, position_++, epoch_}, outcome, result_);
        chunk.counters.add(result_);
    }

    BatchProcessor& processor_;
    ChunkSink sink_;
    Delivery delivery_;
    uint32_t epoch_;
    int64_t position_ = 0;  // of a message among this lane's
    StoreWaiter store_waiter_;
    std::vector<OwnedMessage> messages_;  // keep their memory from chunk to chunk
    std::vector<std::vector<HeaderView>> header_storage_;
    std::vector<MessageView> views_;
    BatchResult result_;
};

// Chunks handed to lane threads and back, in at most `limit` chunks at a time.
class LaneThreads {
public:
    LaneThreads(std::span<BatchProcessor* const> processors, const ProcessFilesOptions& options) {
        for (BatchProcessor* processor : processors) lanes_.push_back(std::make_unique<Lane>(*processor, options));
        for (auto& lane : lanes_) threads_.emplace_back([this, &lane] { serve(*lane); });
    }
    ~LaneThreads() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        work_ready_.notify_all();
        for (std::thread& t : threads_) t.join();
    }
    LaneThreads(const LaneThreads&) = delete;
    LaneThreads& operator=(const LaneThreads&) = delete;

    void submit(std::unique_ptr<Chunk> chunk) {
        {
            std::lock_guard lock(mutex_);
            waiting_.push_back(std::move(chunk));
        }
        work_ready_.notify_one();
    }
    // The processed chunk `sequence`, waiting for it.
    std::unique_ptr<Chunk> take(uint64_t sequence) {
        std::unique_lock lock(mutex_);
        std::map<uint64_t, std::unique_ptr<Chunk>>::iterator it;
        done_ready_.wait(lock, [&] { return (it = done_.find(sequence)) != done_.end(); });
        std::unique_ptr<Chunk> chunk = std::move(it->second);
        done_.erase(it);
        return chunk;
    }

private:
    void serve(Lane& lane) {
        std::unique_lock lock(mutex_);
        for (;;) {
            work_ready_.wait(lock, [&] { return stopping_ || !waiting_.empty(); });
            if (stopping_) return;
            std::unique_ptr<Chunk> chunk = std::move(waiting_.front());
            waiting_.pop_front();
            lock.unlock();
            lane.process(*chunk);
            lock.lock();
            const uint64_t sequence = chunk->sequence;
            done_.emplace(sequence, std::move(chunk));
            done_ready_.notify_all();
        }
    }

    std::vector<std::unique_ptr<Lane>> lanes_;
    std::vector<std::thread> threads_;
    std::mutex mutex_;
    std::condition_variable work_ready_, done_ready_;
    std::deque<std::unique_ptr<Chunk>> waiting_;
    std::map<uint64_t, std::unique_ptr<Chunk>> done_;
    bool stopping_ = false;
};

// The lanes' audit trails merged into one, its records written as the other outputs are.
void write_audit_records(std::span<BatchProcessor* const> processors, const std::string& topic, TopicFiles& files) {
    AuditTrail* merged = processors.front()->audit();
    if (!merged) return;
    for (BatchProcessor* lane : processors.subspan(1)) {
        if (AuditTrail* trail = lane->audit()) merged->merge_from(*trail);
    }
    std::string lines;
    for (const OutputRecord& record : merged->take_records()) {
        append_envelope_json(lines, topic, record);
        lines += '\n';
    }
    files.write(topic, lines);
}

}  // namespace

OutcomeCounters process_stream(std::istream& input, BatchProcessor& processor, const ProcessFilesOptions& options) {
    BatchProcessor* const one[] = {&processor};
    return process_stream(input, one, options);
}

OutcomeCounters process_stream(std::istream& input, std::span<BatchProcessor* const> processors,
                               const ProcessFilesOptions& options) {
    if (processors.empty()) throw std::invalid_argument("process_stream needs a processor");
    std::error_code ec;
    std::filesystem::create_directories(options.output_dir, ec);
    if (ec) throw std::runtime_error("cannot create " + options.output_dir.string() + ": " + ec.message());
    TopicFiles files(options.output_dir, processors.front()->topics(), options.audit_topic);
    const size_t batch_size = std::max<size_t>(options.batch_size, 1);

    // One lane runs on this thread; more run on threads of their own, with enough chunks in
    // flight to keep each busy while this thread reads and writes.
    std::optional<Lane> inline_lane;
    std::optional<LaneThreads> lane_threads;
    if (processors.size() == 1) {
        inline_lane.emplace(*processors.front(), options);
    } else {
        lane_threads.emplace(processors, options);
    }
    const uint64_t most_in_flight = processors.size() == 1 ? 1 : 2 * processors.size();

    OutcomeCounters counters;
    std::vector<std::unique_ptr<Chunk>> spare;
    uint64_t next_sequence = 0, next_to_write = 0;
    std::unique_ptr<Chunk> reading;
    std::unique_ptr<Chunk> processed_inline;  // by the lane on this thread, not yet written
    const auto write_next = [&] {
        std::unique_ptr<Chunk> chunk =
            lane_threads ? lane_threads->take(next_to_write) : std::exchange(processed_inline, nullptr);
        ++next_to_write;
        if (chunk->failure) std::rethrow_exception(chunk->failure);
        for (const auto& [topic, block] : chunk->outputs) files.write(topic, block);
        counters.add(chunk->counters);
        chunk->clear();
        spare.push_back(std::move(chunk));
    };
    const auto submit = [&] {
        reading->sequence = next_sequence++;
        if (lane_threads) {
            lane_threads->submit(std::move(reading));
        } else {
            inline_lane->process(*reading);
            processed_inline = std::move(reading);
        }
        while (next_sequence - next_to_write >= most_in_flight) write_next();
    };

    std::string line;
    int64_t line_number = 0;
    while (std::getline(input, line)) {
        ++line_number;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos) continue;  // blank lines are not messages
        if (!reading) {
            if (spare.empty()) spare.push_back(std::make_unique<Chunk>());
            reading = std::move(spare.back());
            spare.pop_back();
        }
        reading->lines.push_back({reading->text.size(), line.size(), line_number - 1});
        reading->text += line;
        if (reading->lines.size() == batch_size) submit();
    }
    if (input.bad()) throw std::runtime_error("reading the input failed");
    if (reading) submit();
    while (next_to_write < next_sequence) write_next();
    if (!options.audit_topic.empty()) write_audit_records(processors, options.audit_topic, files);
    files.close();
    return counters;
}

}  // namespace warden
