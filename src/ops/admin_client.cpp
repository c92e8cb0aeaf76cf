// `warden admin`'s side of an admin request: one signed POST over plain HTTP to the ops server,
// every step bounded by one deadline.
#include <warden/admin.hpp>

#include "listen_socket.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>

namespace warden {
namespace {

using Clock = std::chrono::steady_clock;

// An answer of the ops server is a few hundred bytes; more is not one.
constexpr size_t max_answer_bytes = size_t{64} * 1024;

void send_all(int fd, std::string_view bytes, Clock::time_point deadline, const std::string& address) {
    while (!bytes.empty()) {
        const ssize_t sent = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (sent > 0) {
            bytes.remove_prefix(static_cast<size_t>(sent));
        } else if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            throw std::runtime_error("cannot send the request to " + address + ": " + std::strerror(errno));
        } else if (!wait_until_ready(fd, POLLOUT, deadline)) {
            throw std::runtime_error("the ops server at " + address + " did not take the request in time");
        }
    }
}

// What the server sent until it closed the connection (it answers once, then closes).
std::string read_to_close(int fd, Clock::time_point deadline, const std::string& address) {
    std::string received;
    char chunk[4096];
    for (;;) {
        const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n == 0) return received;
        if (n > 0) {
            received.append(chunk, static_cast<size_t>(n));
            if (received.size() > max_answer_bytes) {
                throw std::runtime_error("the answer of " + address + " is too long for an ops server's");
            }
        } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            throw std::runtime_error("cannot read the answer of " + address + ": " + std::strerror(errno));
        } else if (!wait_until_ready(fd, POLLIN, deadline)) {
            throw std::runtime_error("no answer from the ops server at " + address + " in time");
        }
    }
}

// "HTTP/1.1 200 OK\r\n…\r\n\r\nbody".
AdminAnswer parse_answer(const std::string& response, const std::string& address) {
    const size_t blank = response.find("\r\n\r\n");
    const size_t space = response.find(' ');
    const std::string_view status =
        space == std::string::npos ? std::string_view() : std::string_view(response).substr(space + 1, 3);
    if (!response.starts_with("HTTP/1.") || blank == std::string::npos || status.size() != 3 ||
        !std::all_of(status.begin(), status.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        throw std::runtime_error("what " + address + " answered is not HTTP; is it warden's --metrics-address?");
    }
    AdminAnswer answer;
    answer.status = (status[0] - '0') * 100 + (status[1] - '0') * 10 + (status[2] - '0');
    answer.body = response.substr(blank + 4);
    return answer;
}

// 16 random hex digits: the same action sent twice within a second is two signatures.
std::string random_nonce() {
    std::array<unsigned char, 8> bytes{};
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
        throw std::runtime_error("cannot draw a random nonce for the admin request");
    }
    static constexpr char digits[] = "0123456789abcdef";
    std::string nonce;
    for (const unsigned char byte : bytes) {
        nonce += digits[byte >> 4];
        nonce += digits[byte & 0x0f];
    }
    return nonce;
}

}  // namespace

AdminAnswer send_admin_request(const std::string& address, const AdminAction& action, std::string_view secret,
                               std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    const std::string body = admin_request_body(action, random_nonce());
    const int64_t now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    const std::string request = "POST " + admin_request_path(action) + " HTTP/1.1\r\nHost: " + address +
                                "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                                "\r\n" + std::string(admin_signature_header) + ": " +
                                sign_admin_request(secret, now, body) + "\r\nConnection: close\r\n\r\n" + body;
    const UniqueFd connection = connect_tcp(address, deadline);
    send_all(connection.get(), request, deadline, address);
    return parse_answer(read_to_close(connection.get(), deadline, address), address);
}

}  // namespace warden
