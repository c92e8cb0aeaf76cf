// kcat -J envelopes: reading input lines and writing output lines.
#include "envelope_scan.hpp"

#include <warden/files.hpp>
#include <warden/json_scan.hpp>
#include <warden/json_text.hpp>

#include <rapidjson/document.h>

namespace warden {
namespace {

// The last member named `name`, or null: a key given twice takes its last value, as in message
// values (the core's parser), so a line means one thing whichever part reads it.
const rapidjson::Value* last_member(const rapidjson::Value& object, std::string_view name) {
    const rapidjson::Value* found = nullptr;
    for (const auto& member : object.GetObject()) {
        if (std::string_view(member.name.GetString(), member.name.GetStringLength()) == name) found = &member.value;
    }
    return found;
}

std::optional<std::string> optional_string(const rapidjson::Value& object, const char* name, bool& ok) {
    const rapidjson::Value* value = last_member(object, name);
    if (!value || value->IsNull()) return std::nullopt;
    if (!value->IsString()) {
        ok = false;
        return std::nullopt;
    }
    return std::string(value->GetString(), value->GetStringLength());
}

bool read_envelope(const rapidjson::Value& doc, OwnedMessage& m) {
    bool ok = true;
    m.topic = optional_string(doc, "topic", ok).value_or(std::string(default_input_topic));
    if (const rapidjson::Value* partition = last_member(doc, "partition")) {
        if (!partition->IsInt()) return false;
        m.partition = partition->GetInt();
    }
    if (const rapidjson::Value* offset = last_member(doc, "offset")) {
        if (!offset->IsInt64()) return false;
        m.offset = offset->GetInt64();
    }
    m.key = optional_string(doc, "key", ok);
    m.value = optional_string(doc, "payload", ok);
    if (const rapidjson::Value* headers = last_member(doc, "headers"); headers && !headers->IsNull()) {
        const rapidjson::Value& h = *headers;
        if (!h.IsArray() || h.Size() % 2 != 0) return false;
        for (rapidjson::SizeType i = 0; i < h.Size(); i += 2) {
            if (!h[i].IsString() || !(h[i + 1].IsString() || h[i + 1].IsNull())) return false;
            std::string_view name(h[i].GetString(), h[i].GetStringLength());
            if (h[i + 1].IsNull()) {
                m.headers.add(name, std::nullopt);
            } else {
                m.headers.add(name, std::string_view(h[i + 1].GetString(), h[i + 1].GetStringLength()));
            }
        }
    }
    return ok;
}

}  // namespace

MessageView OwnedMessage::view(std::vector<HeaderView>& header_storage) const {
    header_storage.clear();
    for (size_t i = 0; i < headers.size(); ++i) header_storage.push_back(headers[i]);
    MessageView v;
    v.topic = topic;
    v.partition = partition;
    v.offset = offset;
    if (key) v.key = *key;
    if (value) v.value = *value;
    v.headers = header_storage;
    return v;
}

OwnedMessage parse_input_line(std::string_view line, int64_t line_number) {
    OwnedMessage m;
    read_input_line(line, line_number, m);
    return m;
}

void read_input_line(std::string_view line, int64_t line_number, OwnedMessage& m) {
    if (!scan_common_envelope(line, m)) m = read_input_document(line, line_number);
}

OwnedMessage read_input_document(std::string_view line, int64_t line_number) {
    rapidjson::Document doc;
    constexpr unsigned flags = rapidjson::kParseIterativeFlag;
    std::string text(line);  // lone surrogate escapes repaired, as in message values
    json::repair_lone_surrogates(text.data(), text.size());
    doc.Parse<flags>(text.data(), text.size());
    if (!doc.HasParseError() && doc.IsObject() && doc.HasMember("payload")) {
        OwnedMessage m;
        if (read_envelope(doc, m)) return m;
    }
    OwnedMessage bare;
    bare.topic = std::string(default_input_topic);
    bare.offset = line_number;
    bare.value = std::string(line);
    return bare;
}

std::string envelope_json(const std::string& topic, const OutputRecord& record) {
    std::string line;
    append_envelope_json(line, topic, record);
    return line;
}

void append_envelope_json(std::string& out, std::string_view topic, const OutputRecord& record) {
    using json_scan::append_string;
    const auto optional = [&](const std::optional<std::string_view>& s) {
        if (s) {
            append_string(out, *s);
        } else {
            out.append("null");
        }
    };
    out.append("{\"topic\":");
    append_string(out, topic);
    out.append(",\"key\":");
    optional(record.key);
    out.append(",\"headers\":[");
    for (size_t i = 0; i < record.headers.size(); ++i) {
        const HeaderView h = record.headers[i];
        if (i) out.push_back(',');
        append_string(out, h.name);
        out.push_back(',');
        optional(h.value);
    }
    out.append("],\"payload\":");
    optional(record.value);
    out.push_back('}');
}

}  // namespace warden
