// Helpers shared by the unit tests: build capture messages and run them through the pipeline.
#pragma once

#include <warden/files.hpp>
#include <warden/pipeline.hpp>
#include <warden/teams.hpp>

#include "test_teams.hpp"

#include <doctest/doctest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string>
#include <string_view>
#include <vector>

namespace test {

inline std::string serialize(const rapidjson::Value& v) {
    rapidjson::StringBuffer b;
    rapidjson::Writer<rapidjson::StringBuffer> w(b);
    v.Accept(w);
    return {b.GetString(), b.GetSize()};
}

// A capture value whose client event is `data` (a JSON object text), with outer fields added.
inline std::string capture_value(const std::string& token, const std::string& data, const std::string& extra_outer = "",
                                 const std::string& uuid = "01900a3c-8f1e-7a2b-9c3d-4e5f60718293") {
    rapidjson::Document d;
    d.SetObject();
    auto& a = d.GetAllocator();
    d.AddMember("uuid", rapidjson::Value(uuid.c_str(), a), a);
    d.AddMember("distinct_id", "user-42", a);
    d.AddMember("ip", "203.0.113.7", a);
    d.AddMember("data", rapidjson::Value(data.c_str(), a), a);
    d.AddMember("now", "2024-06-10T06:13:20.456789Z", a);
    d.AddMember("sent_at", "2024-06-10T06:13:20.600Z", a);
    d.AddMember("token", rapidjson::Value(token.c_str(), a), a);
    d.AddMember("timestamp", "2024-06-10T06:13:20.056789Z", a);
    std::string out = serialize(d);
    if (!extra_outer.empty()) out = out.substr(0, out.size() - 1) + "," + extra_outer + "}";
    return out;
}

struct Input {
    std::string value;
    std::vector<std::pair<std::string, std::optional<std::string>>> headers;
    std::optional<std::string> key;
    bool has_value = true;
};

inline Input event_with(const std::string& token, const std::string& data, const std::string& extra_outer = "") {
    Input in;
    in.value = capture_value(token, data, extra_outer);
    in.headers = {{"token", token}, {"distinct_id", "user-42"}};
    in.key = token + ":user-42";
    return in;
}

// Runs inputs through a fresh pipeline over the test teams.
struct Harness {
    std::unique_ptr<warden::FileTeamStore> store;
    warden::TeamCache cache{*store};
    warden::BatchProcessor processor;
    warden::BatchResult result;
    warden::OutcomeCounters counters;

    // Over the test teams, or over `teams` (a JSON array of team objects).
    explicit Harness(warden::CoreLimits limits = {}, std::string_view teams = teams_json)
        : store(warden::FileTeamStore::from_json(teams, "test")),
          processor(cache, {}, limits, [] { return int64_t{1700000000000}; }) {}

    const warden::BatchResult& run(const std::vector<Input>& inputs) {
        std::vector<warden::HeaderList> headers(inputs.size());
        std::vector<std::vector<warden::HeaderView>> header_views(inputs.size());
        std::vector<warden::MessageView> views;
        for (size_t i = 0; i < inputs.size(); ++i) {
            for (const auto& [n, v] : inputs[i].headers) {
                headers[i].add(n, v ? std::optional<std::string_view>(*v) : std::nullopt);
            }
            header_views[i] = headers[i].views();
            warden::MessageView m;
            m.topic = "events_plugin_ingestion";
            m.partition = 1;
            m.offset = static_cast<int64_t>(100 + i);
            if (inputs[i].key) m.key = *inputs[i].key;
            if (inputs[i].has_value) m.value = inputs[i].value;
            m.headers = header_views[i];
            views.push_back(m);
        }
        result.clear();
        REQUIRE(processor.process(views, result) == warden::BatchProcessor::Status::done);
        counters.add(result);
        return result;
    }

    const warden::BatchResult& run_one(const Input& in) { return run({in}); }
};

inline rapidjson::Document parse(const std::optional<std::string>& text) {
    rapidjson::Document d;
    REQUIRE(text.has_value());
    d.Parse(text->c_str(), text->size());
    REQUIRE_FALSE(d.HasParseError());
    return d;
}

inline std::optional<std::string> header(const warden::OutputRecord& r, std::string_view name) {
    for (size_t i = 0; i < r.headers.size(); ++i) {
        auto h = r.headers[i];
        if (h.name == name) return h.value ? std::optional<std::string>(std::string(*h.value)) : std::nullopt;
    }
    return std::nullopt;
}

inline size_t header_count(const warden::OutputRecord& r, std::string_view name) {
    size_t n = 0;
    for (size_t i = 0; i < r.headers.size(); ++i) n += r.headers[i].name == name;
    return n;
}

}  // namespace test
