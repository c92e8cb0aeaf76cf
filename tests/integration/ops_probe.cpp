// The port a worker serves its operations endpoints on, what /readyz gave as its reason, and the
// cluster's topic list.
#include "ops_probe.hpp"

#include <rapidjson/document.h>

#include <cstdlib>

namespace itest {

int ops_port(const ChildProcess& worker, Clock::duration timeout) {
    static constexpr std::string_view marker = R"("msg":"serving /metrics, /healthz and /readyz")";
    int port = 0;
    wait_until(
        [&] {
            const std::string log = worker.stderr_text();
            const size_t at = log.find(marker);
            if (at == std::string::npos) return false;
            const size_t field = log.find(R"("port":")", at);
            if (field == std::string::npos) return false;
            port = std::atoi(log.c_str() + field + 8);
            return port > 0;
        },
        timeout, 50ms);
    return port;
}

std::string health_reason(const HttpAnswer& answer) {
    rapidjson::Document doc;
    doc.Parse(answer.body.c_str(), answer.body.size());
    if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("reason") || !doc["reason"].IsString()) return "";
    return doc["reason"].GetString();
}

std::set<std::string> listed_topics(const std::string& brokers) {
    warden::kafka::ClientPtr client =
        warden::kafka::make_client(RD_KAFKA_PRODUCER, warden::kafka::make_conf({{"bootstrap.servers", brokers}}));
    const rd_kafka_metadata_t* metadata = nullptr;
    if (rd_kafka_metadata(client.get(), 1, nullptr, &metadata, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        throw std::runtime_error("cannot list the topics of " + brokers);
    }
    std::set<std::string> topics;
    for (int i = 0; i < metadata->topic_cnt; ++i) topics.insert(metadata->topics[i].topic);
    rd_kafka_metadata_destroy(metadata);
    return topics;
}

double metric_sum(int port, const std::string& name) {
    const std::optional<HttpAnswer> answer = http_get(port, "/metrics");
    if (!answer || answer->status != 200) return -1;
    const std::string& text = answer->body;
    double sum = 0;
    bool found = false;
    for (size_t at = text.find("\n" + name); at != std::string::npos; at = text.find("\n" + name, at + 1)) {
        const size_t after_name = at + 1 + name.size();
        if (after_name >= text.size() || (text[after_name] != ' ' && text[after_name] != '{')) continue;
        const size_t value = text.find(' ', text[after_name] == '{' ? text.find('}', after_name) : after_name);
        if (value == std::string::npos) continue;
        sum += std::strtod(text.c_str() + value + 1, nullptr);
        found = true;
    }
    return found ? sum : -1;
}

}  // namespace itest
