#include "replay_checkpoint.hpp"

#include <rapidjson/document.h>
#include <rapidjson/writer.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace warden::kafka {

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
    auto bad = [&path](const std::string& why) {
        return std::runtime_error("the checkpoint " + path + " is not usable (" + why +
                                  "); remove it to start the replay afresh");
    };
    if (doc.HasParseError() || !doc.IsObject()) throw bad("not a JSON object");
    if (!doc.HasMember("topic") || !doc["topic"].IsString()) throw bad("no topic");
    if (!doc.HasMember("partitions") || !doc["partitions"].IsArray()) throw bad("no partitions");
    ReplayCheckpoint checkpoint;
    checkpoint.topic = doc["topic"].GetString();
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

void write_checkpoint(const std::string& path, const ReplayCheckpoint& checkpoint) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    w.StartObject();
    w.Key("version");
    w.Int(1);
    w.Key("topic");
    w.String(checkpoint.topic.c_str(), static_cast<rapidjson::SizeType>(checkpoint.topic.size()));
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

    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << buffer.GetString() << '\n';
        out.flush();
        if (!out) throw std::runtime_error("cannot write the checkpoint " + tmp + ": " + std::strerror(errno));
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        throw std::runtime_error("cannot replace the checkpoint " + path + ": " + std::strerror(errno));
    }
}

}  // namespace warden::kafka
