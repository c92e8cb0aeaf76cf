// Loopback HTTP/1.1 exchanges for tests, every step bounded by a deadline.
#include "http_client.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>
#include <utility>

namespace testhttp {
namespace {

// Waits for `events` on fd until the deadline; false when it passed first.
bool wait_for(int fd, short events, Clock::time_point deadline) {
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) return false;
        pollfd p{fd, events, 0};
        const int n = ::poll(&p, 1, static_cast<int>(left));
        if (n > 0) return true;
        if (n < 0 && errno != EINTR) return false;
    }
}

}  // namespace

namespace {

// host:port as a socket address; throws when host is not a numeric IPv4 or IPv6 address.
std::pair<sockaddr_storage, socklen_t> socket_address(const std::string& host, int port) {
    sockaddr_storage address{};
    if (auto* v4 = reinterpret_cast<sockaddr_in*>(&address); ::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(static_cast<uint16_t>(port));
        return {address, sizeof *v4};
    }
    if (auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
        ::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(static_cast<uint16_t>(port));
        return {address, sizeof *v6};
    }
    throw std::runtime_error("not a numeric address: " + host);
}

}  // namespace

Connection::Connection(int port, const std::string& host, Clock::duration timeout, const std::string& from) {
    const auto [address, length] = socket_address(host, port);
    fd_ = ::socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("cannot create a socket");
    int error = 0;
    if (!from.empty()) {
        const auto [local, local_length] = socket_address(from, 0);
        if (::bind(fd_, reinterpret_cast<const sockaddr*>(&local), local_length) != 0) error = errno;
    }
    if (error == 0 && ::connect(fd_, reinterpret_cast<const sockaddr*>(&address), length) != 0) error = errno;
    if (error == EINPROGRESS && wait_for(fd_, POLLOUT, Clock::now() + timeout)) {
        socklen_t size = sizeof error;
        ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &size);
    }
    if (error != 0) {
        ::close(fd_);
        throw std::runtime_error("cannot connect to " + host + ":" + std::to_string(port) + ": " +
                                 std::strerror(error));
    }
}

Connection::~Connection() {
    if (fd_ >= 0) ::close(fd_);
}

Connection::Connection(Connection&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

bool Connection::send(std::string_view bytes, Clock::duration timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!bytes.empty()) {
        const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n > 0) {
            bytes.remove_prefix(static_cast<size_t>(n));
        } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
            return false;
        } else if (!wait_for(fd_, POLLOUT, deadline)) {
            return false;
        }
    }
    return true;
}

std::optional<std::string> Connection::read_to_close(Clock::duration timeout) {
    const auto deadline = Clock::now() + timeout;
    std::string received;
    char buffer[16384];
    for (;;) {
        const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
        if (n > 0) {
            received.append(buffer, static_cast<size_t>(n));
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            return received;  // closed or reset by the peer
        } else if (!wait_for(fd_, POLLIN, deadline)) {
            return std::nullopt;
        }
    }
}

std::optional<std::string> exchange(int port, std::string_view request, Clock::duration timeout,
                                    const std::string& host) {
    const auto deadline = Clock::now() + timeout;
    try {
        Connection connection(port, host, timeout);
        if (!connection.send(request, deadline - Clock::now())) return std::nullopt;
        return connection.read_to_close(deadline - Clock::now());
    } catch (const std::runtime_error&) {
        return std::nullopt;
    }
}

std::optional<HttpAnswer> parse_answer(const std::string& response) {
    // "HTTP/1.1 503 Service Unavailable\r\n...\r\n\r\nbody"
    const size_t blank = response.find("\r\n\r\n");
    if (response.rfind("HTTP/", 0) != 0 || blank == std::string::npos) return std::nullopt;
    HttpAnswer answer;
    answer.status = std::atoi(response.c_str() + response.find(' ') + 1);
    answer.head = response.substr(0, blank + 2);
    answer.body = response.substr(blank + 4);
    return answer;
}

std::optional<HttpAnswer> http_get(int port, const std::string& path, Clock::duration timeout,
                                   const std::string& host) {
    const std::optional<std::string> response =
        exchange(port, "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", timeout, host);
    return response ? parse_answer(*response) : std::nullopt;
}

}  // namespace testhttp
