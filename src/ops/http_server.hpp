// The HTTP/1.1 server behind the operations endpoints. One thread waits on epoll for every
// connection, so idle, trickling or abandoned connections hold nothing that a probe needs: each
// connection has one deadline for its whole exchange, and when their number reaches a cap the
// oldest connection of the peer holding the most is closed to make room for the newest.
#pragma once

#include "http_message.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

namespace warden::http {

struct Limits {
    // From accept to the last byte of the answer handed to the kernel. Probes and scrapes send one
    // small request at once and their answers fit the socket buffer; a client slower than this is
    // either broken or holding the connection on purpose.
    std::chrono::milliseconds request_deadline{2000};
    // After answering, how long the client may take to close while what it still sends is read and
    // dropped: closing with unread input would reset the connection and could destroy the answer.
    std::chrono::milliseconds linger{1000};
    // Open connections at most (at least 1); each costs a descriptor and at most the head's bytes.
    size_t max_connections = 128;
    size_t max_head_bytes = 8192;
    // A POST's body at most (Content-Length; read within the same deadline); longer ones get 413.
    size_t max_body_bytes = 4096;
};

// What answers GET (and HEAD) of one path.
using Route = std::function<Response()>;
using Routes = std::map<std::string, Route, std::less<>>;

// A request to a path of PostRoutes: a POST with its whole body, or a request whose body the
// server did not read, with the status it is refused with.
struct PostRequest {
    Request request;
    std::string_view body;  // Content-Length bytes; empty when refused
    std::string_view peer;  // the client's address, without its port
    // 0, or 405 for another method, 411 without Content-Length (or with a Transfer-Encoding), 400
    // for a malformed one, 413 past Limits::max_body_bytes; `refusal_reason` says so in words.
    int refusal = 0;
    std::string refusal_reason;
};

// The paths that take POST: each request to one of them is handed to `answer` (refusals too, so
// that it can note them), and every other method there is refused with 405.
struct PostRoutes {
    std::function<bool(std::string_view path)> claims;  // null: no such paths
    std::function<Response(const PostRequest&)> answer;
};

// Serves `routes` (and `post`) from its own thread, from construction to destruction.
class Server {
public:
    // Listens on `address` (the forms of listen_tcp); throws std::runtime_error when it cannot.
    Server(const std::string& address, Routes routes, Limits limits = {}, PostRoutes post = {});
    // Returns promptly: wakes the loop, which closes every connection.
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    int port() const;

private:
    class Loop;
    std::unique_ptr<Loop> loop_;
    std::thread thread_;
};

}  // namespace warden::http
