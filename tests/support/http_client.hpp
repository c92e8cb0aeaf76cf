// A loopback HTTP/1.1 client for tests of the operations endpoints: whole exchanges bounded by a
// deadline, and raw connections that hold, trickle or abandon a request the way hostile clients do.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace testhttp {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct HttpAnswer {
    int status = 0;
    std::string head;  // the status line and header fields, each ending in CRLF
    std::string body;
};

// One TCP connection to a loopback port, closed when it goes out of scope.
class Connection {
public:
    // `host` is a numeric IPv4 or IPv6 address; `from`, when given, the local address to connect
    // from (any of 127.0.0.0/8 stands for another client). Throws std::runtime_error when no
    // connection is established within `timeout`.
    explicit Connection(int port, const std::string& host = "127.0.0.1", Clock::duration timeout = 1s,
                        const std::string& from = {});
    ~Connection();
    Connection(Connection&& other) noexcept;
    Connection& operator=(Connection&&) = delete;
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // Sends all of `bytes`; false when the peer closed or `timeout` passed first.
    bool send(std::string_view bytes, Clock::duration timeout = 1s);
    // What the peer sent until it closed (or reset) the connection; nothing when it was still open
    // after `timeout`.
    std::optional<std::string> read_to_close(Clock::duration timeout);

private:
    int fd_ = -1;
};

// Connects, sends `request` and reads until the server closes; nothing when that did not all
// happen within `timeout`.
std::optional<std::string> exchange(int port, std::string_view request, Clock::duration timeout = 5s,
                                    const std::string& host = "127.0.0.1");

// Splits a raw response at its blank line; nothing without a status line and a blank line.
std::optional<HttpAnswer> parse_answer(const std::string& response);

// GET http://host:port/path with Connection: close; nothing when no whole answer came in time.
std::optional<HttpAnswer> http_get(int port, const std::string& path, Clock::duration timeout = 5s,
                                   const std::string& host = "127.0.0.1");

}  // namespace testhttp
