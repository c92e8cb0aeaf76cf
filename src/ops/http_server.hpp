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
};

// What answers GET (and HEAD) of one path.
using Route = std::function<Response()>;
using Routes = std::map<std::string, Route, std::less<>>;

// Serves `routes` from its own thread, from construction to destruction.
class Server {
public:
    // Listens on `address` (the forms of listen_tcp); throws std::runtime_error when it cannot.
    Server(const std::string& address, Routes routes, Limits limits = {});
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
