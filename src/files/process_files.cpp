// The offline pipeline: lines in, one JSONL file per output topic out.
#include <warden/delivery.hpp>
#include <warden/files.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace warden {
namespace {

// The delivery stage's file sink: one JSONL file per topic, a record acknowledged once its line is
// written. Every topic's file is emptied when the run starts, so a directory reused from an
// earlier run never shows that run's records as this one's.
class TopicFiles final : public OutputSink {
public:
    TopicFiles(std::filesystem::path dir, const TopicNames& topics) : dir_(std::move(dir)) {
        for (Destination d :
             {Destination::analytics, Destination::error_tracking, Destination::heatmaps, Destination::dead_letter}) {
            open(topics.name_of(d));
        }
    }

    void send(const std::string& topic, const OutputRecord& record, const SourceTag& source) override {
        auto it = files_.find(topic);
        if (it == files_.end()) it = open(topic);
        line_.clear();
        append_envelope_json(line_, topic, record);
        line_.push_back('\n');
        it->second->write(line_.data(), static_cast<std::streamsize>(line_.size()));
        if (!*it->second) throw std::runtime_error("write to " + (dir_ / (topic + ".jsonl")).string() + " failed");
        acknowledge(source);
    }
    void poll(std::chrono::milliseconds) override {}
    size_t in_flight() const override { return 0; }

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
    std::string line_;  // the line being written, its memory kept
};

}  // namespace

OutcomeCounters process_stream(std::istream& input, BatchProcessor& processor, const ProcessFilesOptions& options) {
    std::error_code ec;
    std::filesystem::create_directories(options.output_dir, ec);
    if (ec) throw std::runtime_error("cannot create " + options.output_dir.string() + ": " + ec.message());
    TopicFiles files(options.output_dir, processor.topics());
    Delivery delivery(files, processor.topics());
    const uint32_t epoch = delivery.assign(0);  // the input is one ordered stream
    int64_t position = 0;                       // of a message in it

    OutcomeCounters counters;
    // Lines are read into the messages of the last batch, which keep their memory.
    std::vector<OwnedMessage> messages(std::max<size_t>(options.batch_size, 1));
    size_t count = 0;
    std::vector<std::vector<HeaderView>> header_storage(messages.size());
    std::vector<MessageView> views;
    BatchResult result;
    std::string line;
    int64_t line_number = 0;
    StoreWaiter store_waiter(processor.cache(), RetryPolicy::Options::giving_up_after(options.store_wait_timeout));

    auto flush = [&] {
        views.clear();
        for (size_t i = 0; i < count; ++i) views.push_back(messages[i].view(header_storage[i]));
        // An unavailable store is waited for, never a reason to drop (SPEC §3.5); past the bounded
        // wait, or when it failed for good, the command ends with the cause.
        store_waiter.until_done([&] {
            result.clear();
            return processor.process(views, result);
        });
        for (const MessageOutcome& outcome : result.outcomes) delivery.deliver({0, position++, epoch}, outcome, result);
        counters.add(result);
        count = 0;
    };

    while (std::getline(input, line)) {
        ++line_number;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos) continue;  // blank lines are not messages
        read_input_line(line, line_number - 1, messages[count++]);
        if (count == messages.size()) flush();
    }
    if (input.bad()) throw std::runtime_error("reading the input failed");
    if (count > 0) flush();
    files.close();
    return counters;
}

}  // namespace warden
