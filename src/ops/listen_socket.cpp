// host:port parsing, the listening socket behind the operations endpoints and the admin client's
// connection to it.
#include "listen_socket.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <memory>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>

namespace warden {
namespace {

constexpr const char* address_forms = "expected host:port, [IPv6]:port or a port, e.g. 127.0.0.1:9464";

struct HostPort {
    std::string host;
    std::string port;
};

bool all_digits(const std::string& text) {
    return !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
}

HostPort split(const std::string& address) {
    HostPort parts;
    if (all_digits(address)) {
        parts = {"0.0.0.0", address};
    } else if (!address.empty() && address.front() == '[') {
        const size_t close = address.find("]:");
        if (close == std::string::npos) throw std::runtime_error(address_forms);
        parts = {address.substr(1, close - 1), address.substr(close + 2)};
    } else {
        const size_t colon = address.rfind(':');
        if (colon == std::string::npos) throw std::runtime_error(address_forms);
        parts = {address.substr(0, colon), address.substr(colon + 1)};
        if (parts.host.find(':') != std::string::npos) {
            throw std::runtime_error("an IPv6 address goes in brackets, e.g. [::1]:9464");
        }
        if (parts.host.empty()) parts.host = "0.0.0.0";
    }
    if (!all_digits(parts.port) || parts.port.size() > 5 || std::stoi(parts.port) > 65535) {
        throw std::runtime_error("the port must be a number from 0 to 65535 (0 picks a free one)");
    }
    return parts;
}

[[noreturn]] void fail(const char* what, int error) {
    throw std::runtime_error(std::string(what) + ": " + std::strerror(error));
}

}  // namespace

UniqueFd listen_tcp(const std::string& address) {
    const HostPort where = split(address);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    if (const int error = ::getaddrinfo(where.host.c_str(), where.port.c_str(), &hints, &found); error != 0) {
        throw std::runtime_error("cannot resolve " + where.host + ": " + ::gai_strerror(error));
    }
    const std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owned(found, &::freeaddrinfo);

    UniqueFd fd(::socket(found->ai_family, found->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, found->ai_protocol));
    if (!fd) fail("cannot create a socket", errno);
    const int on = 1, off = 0;
    // A restarted worker binds again at once, although connections of its predecessor linger in TIME_WAIT.
    (void)::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (found->ai_family == AF_INET6) (void)::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
    if (::bind(fd.get(), found->ai_addr, found->ai_addrlen) != 0) fail("cannot bind", errno);
    if (::listen(fd.get(), SOMAXCONN) != 0) fail("cannot listen", errno);
    return fd;
}

UniqueFd connect_tcp(const std::string& address, std::chrono::steady_clock::time_point deadline) {
    const HostPort where = split(all_digits(address) ? "127.0.0.1:" + address : address);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* found = nullptr;
    if (const int error = ::getaddrinfo(where.host.c_str(), where.port.c_str(), &hints, &found); error != 0) {
        throw std::runtime_error("cannot resolve " + where.host + ": " + ::gai_strerror(error));
    }
    const std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owned(found, &::freeaddrinfo);
    int error = ETIMEDOUT;
    // Each address the name resolves to, in the resolver's order, until one answers.
    for (const addrinfo* candidate = found; candidate != nullptr; candidate = candidate->ai_next) {
        UniqueFd fd(::socket(candidate->ai_family, candidate->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                             candidate->ai_protocol));
        if (!fd) fail("cannot create a socket", errno);
        error = ::connect(fd.get(), candidate->ai_addr, candidate->ai_addrlen) == 0 ? 0 : errno;
        if (error == EINPROGRESS) {
            error = ETIMEDOUT;
            if (wait_until_ready(fd.get(), POLLOUT, deadline)) {
                socklen_t size = sizeof error;
                if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &size) != 0) error = errno;
            }
        }
        if (error == 0) return fd;
    }
    throw std::runtime_error("cannot connect to " + address + ": " + std::strerror(error));
}

bool wait_until_ready(int fd, short events, std::chrono::steady_clock::time_point deadline) {
    for (;;) {
        const auto left =
            std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
        if (left <= 0) return false;
        pollfd watched{fd, events, 0};
        const int ready = ::poll(&watched, 1, static_cast<int>(std::min<long long>(left, 60'000)));
        if (ready > 0) return true;
        if (ready < 0 && errno != EINTR) return false;
    }
}

int local_port(int fd) {
    sockaddr_storage bound{};
    socklen_t size = sizeof bound;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &size) != 0) return 0;
    if (bound.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&bound)->sin6_port);
    return ntohs(reinterpret_cast<const sockaddr_in*>(&bound)->sin_port);
}

std::string address_text(const sockaddr_storage& address) {
    char text[INET6_ADDRSTRLEN] = "";
    if (address.ss_family == AF_INET) {
        ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&address)->sin_addr, text, sizeof text);
    } else if (address.ss_family == AF_INET6) {
        ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&address)->sin6_addr, text, sizeof text);
    }
    return text;
}

}  // namespace warden
