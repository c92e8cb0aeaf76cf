#include "replay_checkpoint.hpp"

#include <rapidjson/document.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <unistd.h>

namespace warden::kafka {
namespace {

constexpr int checkpoint_version = 2;  // 2: the range asked for is recorded

std::string position_text(const OffsetSpec& spec) {
    switch (spec.kind) {
        case OffsetSpec::Kind::earliest: return "earliest";
        case OffsetSpec::Kind::latest: return "latest";
        case OffsetSpec::Kind::offset: return "offset:" + std::to_string(spec.value);
        case OffsetSpec::Kind::timestamp: break;
    }
    return "time:" + std::to_string(spec.value);
}

bool is_partition_text(const std::string& text) {
    return text == "all" || (!text.empty() && std::all_of(text.begin(), text.end(),
                                                          [](char c) { return (c >= '0' && c <= '9') || c == ','; }));
}

std::optional<ReplayRange> read_range(const rapidjson::Value& doc,
                                      const std::function<std::runtime_error(std::string)>& bad) {
    const auto it = doc.FindMember("range");
    if (it == doc.MemberEnd()) return std::nullopt;
    const rapidjson::Value& range = it->value;
    auto text = [&](const char* field) {
        if (!range.IsObject() || !range.HasMember(field) || !range[field].IsString())
            throw bad(std::string("no range ") + field);
        return std::string(range[field].GetString(), range[field].GetStringLength());
    };
    ReplayRange out{text("from"), text("to"), text("partitions")};
    try {
        (void)parse_offset_spec(out.from);
        (void)parse_offset_spec(out.to);
    } catch (const std::invalid_argument&) {
        throw bad("a range end that is not a position");
    }
    if (!is_partition_text(out.partitions)) throw bad("a range of partitions that is not a list");
    return out;
}

std::string checkpoint_json(const ReplayCheckpoint& checkpoint) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    auto string = [&w](const std::string& s) { w.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size())); };
    w.StartObject();
    w.Key("version");
    w.Int(checkpoint_version);
    w.Key("topic");
    string(checkpoint.topic);
    if (checkpoint.range) {
        w.Key("range");
        w.StartObject();
        w.Key("from");
        string(checkpoint.range->from);
        w.Key("to");
        string(checkpoint.range->to);
        w.Key("partitions");
        string(checkpoint.range->partitions);
        w.EndObject();
    }
    if (!checkpoint.transactional_id.empty()) {
        w.Key("transactional_id");
        string(checkpoint.transactional_id);
    }
    w.Key("partitions");
    w.StartArray();
    for (const PartitionProgress& p : checkpoint.partitions) {
        w.StartObject();
        w.Key("partition");
        w.Int64(p.partition);
        w.Key("start");
        w.Int64(p.start);
        w.Key("end");
        w.Int64(p.end);
        w.Key("acked");
        w.Int64(p.acked);
        w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    return std::string(buffer.GetString(), buffer.GetSize()) + "\n";
}

bool write_all(int fd, const std::string& text) {
    for (size_t done = 0; done < text.size();) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += static_cast<size_t>(n);
    }
    return true;
}

// The directory entry of a rename reaches the disk only with its directory.
void sync_directory(const std::filesystem::path& directory) {
    const int fd = ::open(directory.empty() ? "." : directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    (void)::fsync(fd);
    ::close(fd);
}

}  // namespace

ReplayRange replay_range(const ReplayOptions& options) {
    std::string partitions = "all";
    if (!options.partitions.empty()) {
        std::vector<int32_t> sorted = options.partitions;
        std::sort(sorted.begin(), sorted.end());
        partitions.clear();
        for (const int32_t p : sorted) {
            if (!partitions.empty()) partitions += ',';
            partitions += std::to_string(p);
        }
    }
    return {position_text(options.from), position_text(options.to), partitions};
}

std::optional<ReplayCheckpoint> read_checkpoint(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        if (errno == ENOENT) return std::nullopt;
        throw std::runtime_error("cannot read the checkpoint " + path + ": " + std::strerror(errno));
    }
    std::stringstream text;
    text << in.rdbuf();
    rapidjson::Document doc;
    doc.Parse(text.str().c_str());
    const std::function<std::runtime_error(std::string)> bad = [&path](const std::string& why) {
        return std::runtime_error("the checkpoint " + path + " is not usable (" + why +
                                  "); remove it to start the replay afresh");
    };
    if (doc.HasParseError() || !doc.IsObject()) throw bad("not a JSON object");
    if (!doc.HasMember("topic") || !doc["topic"].IsString()) throw bad("no topic");
    if (!doc.HasMember("partitions") || !doc["partitions"].IsArray()) throw bad("no partitions");
    ReplayCheckpoint checkpoint;
    checkpoint.topic = doc["topic"].GetString();
    checkpoint.range = read_range(doc, bad);
    // Through a const document: comparing RapidJSON's mutable member iterators is ambiguous in C++20.
    const rapidjson::Document& read = doc;
    if (const auto id = read.FindMember("transactional_id"); id != read.MemberEnd()) {
        if (!id->value.IsString() || id->value.GetStringLength() == 0) throw bad("a transactional_id that is no name");
        checkpoint.transactional_id.assign(id->value.GetString(), id->value.GetStringLength());
    }
    for (const auto& p : doc["partitions"].GetArray()) {
        for (const char* field : {"partition", "start", "end", "acked"}) {
            if (!p.IsObject() || !p.HasMember(field) || !p[field].IsInt64()) throw bad(std::string("no ") + field);
        }
        PartitionProgress progress;
        progress.partition = static_cast<int32_t>(p["partition"].GetInt64());
        progress.start = p["start"].GetInt64();
        progress.end = p["end"].GetInt64();
        progress.acked = p["acked"].GetInt64();
        if (progress.start > progress.end || progress.acked < progress.start || progress.acked > progress.end) {
            throw bad("inconsistent offsets of partition " + std::to_string(progress.partition));
        }
        checkpoint.partitions.push_back(progress);
    }
    return checkpoint;
}

std::string checkpoint_mismatch(const std::string& path, const ReplayCheckpoint& checkpoint,
                                const ReplayOptions& options) {
    const std::string afresh = "delete the checkpoint to start the replay afresh";
    if (checkpoint.topic != options.topic) {
        return "the checkpoint " + path + " belongs to topic " + checkpoint.topic + ", not " + options.topic +
               " (--topic): give --topic " + checkpoint.topic + " to resume it, or " + afresh;
    }
    if (!checkpoint.range) {
        return "the checkpoint " + path + " was written by an older warden that did not record the range it replays " +
               "(--from, --to, --partitions), so a rerun cannot be checked against it: " + afresh +
               " (replayed outputs carry the same keys and uuids, so downstream deduplication drops the repeats)";
    }
    const bool exactly_once = options.guarantee == ProcessingGuarantee::exactly_once;
    if (exactly_once != !checkpoint.transactional_id.empty()) {
        const char* there = exactly_once ? "at-least-once" : "exactly-once";
        return "the checkpoint " + path + " was written by an " + there + " replay" +
               (exactly_once ? ", whose progress did not commit with its outputs" : "") +
               ": give --processing-guarantee " + there + " to resume it, or " + afresh;
    }
    const ReplayRange asked = replay_range(options);
    const std::pair<const char*, std::pair<const std::string*, const std::string*>> settings[] = {
        {"--from", {&checkpoint.range->from, &asked.from}},
        {"--to", {&checkpoint.range->to, &asked.to}},
        {"--partitions", {&checkpoint.range->partitions, &asked.partitions}},
    };
    std::string differences;
    for (const auto& [flag, values] : settings) {
        if (*values.first == *values.second) continue;
        differences += std::string(differences.empty() ? "" : "; ") + flag + " " + *values.first + " there, " +
                       *values.second + " here";
    }
    if (differences.empty()) return {};
    return "the checkpoint " + path + " was written for another range (" + differences +
           "): a rerun resumes only the range its checkpoint was written for. Give the same settings to resume it, "
           "or " +
           afresh;
}

void write_checkpoint(const std::string& path, const ReplayCheckpoint& checkpoint) {
    const std::string text = checkpoint_json(checkpoint);
    const std::filesystem::path target(path);
    // A fresh file (mkstemp creates it, refusing any existing name): nothing is written through
    // a link left where a fixed temporary name would be.
    std::filesystem::path name = ".";
    name += target.filename();
    name += ".XXXXXX";
    std::string temporary = (target.parent_path() / name).string();
    const int fd = ::mkstemp(temporary.data());
    if (fd < 0) {
        throw std::runtime_error("cannot create a file next to the checkpoint " + path + ": " + std::strerror(errno));
    }
    const bool written = write_all(fd, text) && ::fsync(fd) == 0;
    const int write_error = errno;
    if (::close(fd) != 0 || !written) {
        ::unlink(temporary.c_str());
        throw std::runtime_error("cannot write the checkpoint " + path + ": " +
                                 std::strerror(written ? errno : write_error));
    }
    if (std::rename(temporary.c_str(), path.c_str()) != 0) {
        const int rename_error = errno;
        ::unlink(temporary.c_str());
        throw std::runtime_error("cannot replace the checkpoint " + path + ": " + std::strerror(rename_error));
    }
    sync_directory(target.parent_path());
}

}  // namespace warden::kafka
