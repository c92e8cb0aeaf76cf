// Loopback HTTP probes of the operations endpoints, and the cluster's topic list.
#include "ops_probe.hpp"

#include <rapidjson/document.h>

#include <arpa/inet.h>
#include <cerrno>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace itest {
namespace {

// Closes the socket when the probe returns, whichever way.
struct Socket {
    int fd = -1;
    ~Socket() {
        if (fd >= 0) ::close(fd);
    }
};

bool wait_ready(int fd, short events, Clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    return ::poll(&p, 1, static_cast<int>(left)) == 1;
}

}  // namespace

std::optional<HttpAnswer> http_get(int port, const std::string& path, Clock::duration timeout) {
    const auto deadline = Clock::now() + timeout;
    Socket s{::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)};
    if (s.fd < 0) return std::nullopt;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(s.fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 && errno != EINPROGRESS) {
        return std::nullopt;
    }
    if (!wait_ready(s.fd, POLLOUT, deadline)) return std::nullopt;
    const std::string request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if (::send(s.fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
        return std::nullopt;
    }
    std::string response;
    char buffer[4096];
    while (wait_ready(s.fd, POLLIN, deadline)) {
        const ssize_t n = ::recv(s.fd, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        response.append(buffer, static_cast<size_t>(n));
    }
    // "HTTP/1.1 503 Service Unavailable\r\n...\r\n\r\nbody"
    const size_t space = response.find(' ');
    const size_t body = response.find("\r\n\r\n");
    if (space == std::string::npos || body == std::string::npos) return std::nullopt;
    HttpAnswer answer;
    answer.status = std::atoi(response.c_str() + space + 1);
    answer.body = response.substr(body + 4);
    return answer;
}

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
    warden::kafka::ClientPtr client = warden::kafka::make_client(
        RD_KAFKA_PRODUCER, warden::kafka::make_conf({{"bootstrap.servers", brokers}}));
    const rd_kafka_metadata_t* metadata = nullptr;
    if (rd_kafka_metadata(client.get(), 1, nullptr, &metadata, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        throw std::runtime_error("cannot list the topics of " + brokers);
    }
    std::set<std::string> topics;
    for (int i = 0; i < metadata->topic_cnt; ++i) topics.insert(metadata->topics[i].topic);
    rd_kafka_metadata_destroy(metadata);
    return topics;
}

}  // namespace itest
