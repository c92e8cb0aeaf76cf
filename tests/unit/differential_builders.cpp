// Builders of the differential tests' messages and capture values (differential_corpus.hpp).
#include "differential_corpus.hpp"

#include <cstdio>

namespace test::corpus {

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
    for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
        text.replace(at, from.size(), to);
    }
    return text;
}

namespace {

std::string substitute(std::string text, const Variant& v) {
    text = replace_all(std::move(text), "@TOKEN@", v.token);
    text = replace_all(std::move(text), "@SECRET@", v.secret);
    text = replace_all(std::move(text), "@BACKUP@", v.backup);
    return replace_all(std::move(text), "@OTHER@", v.other);
}

}  // namespace

warden::OwnedMessage message_of(const Case& c, const Variant& v, Placement p, int64_t offset) {
    warden::OwnedMessage m;
    m.topic = std::string(warden::default_input_topic);
    m.partition = 1;
    m.offset = offset;
    if (p.token_header) {
        m.key = std::string(v.token) + ":user-42";
        m.headers.add("token", v.token);
    }
    m.headers.add("distinct_id", "user-42");
    if (p.skip_heatmap) m.headers.add("skip_heatmap_processing", "true");
    for (const Header& h : c.headers) {
        const std::string name = substitute(h.name, v);
        if (h.value) {
            const std::string value = substitute(*h.value, v);
            m.headers.add(name, value);
        } else {
            m.headers.add(name, std::nullopt);
        }
    }
    if (c.value) m.value = substitute(*c.value, v);
    return m;
}

std::string label_of(const Case& c, const Variant& v, Placement p) {
    return cat(c.label, " / ", v.label, p.token_header ? " / token header" : " / token in the value only",
               p.skip_heatmap ? " / skip_heatmap_processing" : "");
}

std::string json_string(std::string_view text) {
    std::string out = "\"";
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (c == '\n' || c == '\r' || c == '\t') {
            out += c == '\n' ? "\\n" : c == '\r' ? "\\r" : "\\t";
        } else if (u < 0x20) {
            char escape[8];
            std::snprintf(escape, sizeof escape, "\\u%04x", u);
            out += escape;
        } else {
            out += c;
        }
    }
    return out + "\"";
}

std::string capture(std::string_view data, std::string_view extra) {
    std::string out = R"({"uuid":"01900a3c-8f1e-7a2b-9c3d-4e5f60718293","distinct_id":"user-42","ip":"203.0.113.7",)";
    out += R"("data":)" + json_string(data);
    out += R"(,"now":"2024-06-10T06:13:20.456789Z","sent_at":"2024-06-10T06:13:20.600Z","token":"@TOKEN@",)";
    out += R"("timestamp":"2024-06-10T06:13:20.056789Z")";
    if (!extra.empty()) out += cat(",", extra);
    return out + "}";
}

std::string capture_object(std::string_view data, std::string_view extra) {
    std::string out = R"({"uuid":"01900a3c-8f1e-7a2b-9c3d-4e5f60718293","distinct_id":"user-42","ip":"203.0.113.7",)";
    out += R"("data":)" + std::string(data);
    out += R"(,"now":"2024-06-10T06:13:20.456789Z","token":"@TOKEN@")";
    if (!extra.empty()) out += cat(",", extra);
    return out + "}";
}

std::string bare(std::string_view data, std::string_view extra) {
    std::string out = R"({"uuid":"01900a3c-8f1e-7a2b-9c3d-4e5f60718293","token":"@TOKEN@","data":)" + json_string(data);
    if (!extra.empty()) out += cat(",", extra);
    return out + "}";
}

std::string with_props(std::string_view properties, std::string_view event) {
    return R"({"event":")" + std::string(event) + R"(","distinct_id":"client-id","properties":)" +
           std::string(properties) + "}";
}

std::string nested(size_t levels, bool objects) {
    std::string out;
    for (size_t i = 0; i < levels; ++i) out += objects ? R"({"n":)" : "[";
    out += "1";
    for (size_t i = 0; i < levels; ++i) out += objects ? "}" : "]";
    return out;
}

std::string spaced(std::string_view json) {
    std::string out;
    bool in_string = false, escaped = false;
    for (char c : json) {
        if (in_string) {
            out += c;
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
            continue;
        }
        if (c == '}' || c == ']') out += " \r\n ";
        out += c;
        if (c == '"') in_string = true;
        if (c == '{' || c == '[' || c == ',' || c == ':') out += "\n\t  ";
    }
    return " \t" + out + "\n ";
}

std::string wide_object(size_t members, std::string_view prefix, std::string_view last) {
    std::string out = "{";
    for (size_t i = 0; i < members; ++i) {
        if (i) out += ",";
        out += cat("\"", prefix, std::to_string(i), "\":");
        switch (i % 5) {
            case 0: out += std::to_string(i); break;
            case 1: out += "\"v" + std::to_string(i) + "\\u00e9\""; break;
            case 2: out += "1.50"; break;
            case 3: out += "[true,null,{\"a\":\"b\"}]"; break;
            default: out += "-0"; break;
        }
    }
    if (!last.empty()) out += cat(",", last);
    return out + "}";
}

}  // namespace test::corpus
