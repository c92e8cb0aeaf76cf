// One epoll loop for the listener and every connection: non-blocking accept, read and write, a
// deadline per connection, and a cap on their number that evicts the oldest of the heaviest peer.
#include "http_server.hpp"

#include "listen_socket.hpp"
#include "unique_fd.hpp"

#include <warden/log.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

namespace warden::http {
namespace {

using Clock = std::chrono::steady_clock;

constexpr uint64_t listener_key = 0;
constexpr uint64_t wake_key = 1;
constexpr size_t read_chunk = 4096;
// Accepted per turn of the loop at most, so that a flood of connections does not keep the loop
// from reading the requests of those it holds.
constexpr size_t accepts_per_turn = 16;
// What a client may still send after its answer before it is cut off.
constexpr size_t max_dropped_bytes = size_t{64} * 1024;
// How long accepting rests when the process is out of descriptors and none of ours can be freed.
constexpr auto accept_rest = std::chrono::milliseconds(100);

bool would_block(int error) { return error == EAGAIN || error == EWOULDBLOCK; }

// One client connection and how far its exchange has come.
struct Connection {
    enum class Phase { reading, writing, lingering };
    uint64_t key = 0;
    UniqueFd fd;
    std::string peer;  // the client's address, without its port
    Clock::time_point deadline;
    Phase phase = Phase::reading;
    uint32_t watched = 0;  // the epoll events registered
    std::string received;
    size_t searched = 0;    // how much of `received` find_head_end has seen
    size_t body_at = 0;     // where the body begins in `received` once the head is complete; 0 before
    size_t body_bytes = 0;  // the body a POST announced, awaited after its head
    Request request;        // a POST's head, while its body arrives
    std::string answer;
    size_t sent = 0;
    size_t dropped = 0;
};

}  // namespace

class Server::Loop {
public:
    Loop(const std::string& address, Routes routes, Limits limits, PostRoutes post)
        : limits_(limits),
          routes_(std::move(routes)),
          post_(std::move(post)),
          listener_(listen_tcp(address)),
          epoll_(::epoll_create1(EPOLL_CLOEXEC)),
          wake_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
        if (limits_.max_connections == 0) throw std::invalid_argument("the ops server needs room for a connection");
        if (!epoll_ || !wake_ || !control(EPOLL_CTL_ADD, listener_.get(), listener_key, EPOLLIN) ||
            !control(EPOLL_CTL_ADD, wake_.get(), wake_key, EPOLLIN)) {
            throw std::runtime_error(std::string("cannot create an event loop: ") + std::strerror(errno));
        }
        port_ = local_port(listener_.get());
    }

    int port() const { return port_; }

    // From any thread: run() returns at its next turn.
    void stop() {
        const uint64_t one = 1;
        (void)!::write(wake_.get(), &one, sizeof one);
    }

    void run() {
        epoll_event events[64];
        for (;;) {
            const int ready = ::epoll_wait(epoll_.get(), events, static_cast<int>(std::size(events)), wait_ms());
            if (ready < 0 && errno != EINTR) {
                log::error("the ops endpoints' event loop failed; they stop answering",
                           {{"error", std::strerror(errno)}});
                return;
            }
            for (int i = 0; i < ready; ++i) {
                const uint64_t key = events[i].data.u64;
                if (key == wake_key) return;
                if (key == listener_key) {
                    accept_some();
                } else if (auto it = connections_.find(key); it != connections_.end()) {
                    if (!advance(it->second)) close(it);
                }
            }
            expire();
        }
    }

private:
    bool control(int operation, int fd, uint64_t key, uint32_t events) {
        epoll_event event{};
        event.events = events;
        event.data.u64 = key;
        return ::epoll_ctl(epoll_.get(), operation, fd, &event) == 0;
    }

    // False when epoll refuses: the connection cannot be served.
    bool watch(Connection& c, uint32_t events) {
        if (c.watched == events) return true;
        c.watched = events;
        return control(EPOLL_CTL_MOD, c.fd.get(), c.key, events);
    }

    // Until the next deadline (or the end of an accept rest); -1 when nothing waits.
    int wait_ms() const {
        std::optional<Clock::time_point> next = accept_resumes_;
        for (const auto& [key, c] : connections_) next = std::min(next.value_or(c.deadline), c.deadline);
        if (!next) return -1;
        const long long left = std::chrono::ceil<std::chrono::milliseconds>(*next - Clock::now()).count();
        return static_cast<int>(std::clamp<long long>(left, 0, 60'000));
    }

    // Accepts what is waiting, a bounded number per turn so that a flood of connections does not
    // keep the loop from answering the ones it holds.
    void accept_some() {
        for (size_t accepted = 0; accepted < accepts_per_turn; ++accepted) {
            sockaddr_storage peer{};
            socklen_t size = sizeof peer;
            UniqueFd fd(
                ::accept4(listener_.get(), reinterpret_cast<sockaddr*>(&peer), &size, SOCK_NONBLOCK | SOCK_CLOEXEC));
            if (fd) {
                if (connections_.size() >= limits_.max_connections) evict();
                add(std::move(fd), address_text(peer));
                continue;
            }
            const int error = errno;
            if (would_block(error)) return;
            if (error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM) {
                if (!connections_.empty()) {
                    evict();
                    continue;
                }
                rest_accepting(error);
                return;
            }
            // Anything else concerns that one connection (reset before it was accepted, a network
            // error): take the next.
        }
    }

    void add(UniqueFd fd, std::string peer) {
        const uint64_t key = next_key_++;
        Connection& c = connections_[key];
        c.key = key;
        c.fd = std::move(fd);
        ++per_peer_[peer];
        c.peer = std::move(peer);
        c.deadline = Clock::now() + limits_.request_deadline;
        c.watched = EPOLLIN | EPOLLRDHUP;
        if (!control(EPOLL_CTL_ADD, c.fd.get(), key, c.watched)) close(connections_.find(key));
    }

    // Makes room by closing the oldest connection of the peer that holds the most: a peer that
    // floods the server loses its own connections, and a probe from elsewhere keeps its place.
    void evict() {
        const auto heaviest = std::max_element(per_peer_.begin(), per_peer_.end(),
                                               [](const auto& a, const auto& b) { return a.second < b.second; });
        const auto oldest = std::find_if(connections_.begin(), connections_.end(),
                                         [&](const auto& entry) { return entry.second.peer == heaviest->first; });
        log::warn(
            "the ops endpoints hold their most connections and closed the oldest of the peer holding the most; "
            "let only Prometheus and the kubelet reach --metrics-address",
            {{"peer", heaviest->first},
             {"peer_connections", std::to_string(heaviest->second)},
             {"max_connections", std::to_string(limits_.max_connections)}});
        close(oldest);
    }

    void close(std::map<uint64_t, Connection>::iterator it) {
        if (const auto peer = per_peer_.find(it->second.peer); peer != per_peer_.end() && --peer->second == 0) {
            per_peer_.erase(peer);
        }
        connections_.erase(it);
    }

    void rest_accepting(int error) {
        log::warn("the ops endpoints cannot accept a connection; trying again shortly (raise the descriptor limit)",
                  {{"error", std::strerror(error)}});
        (void)control(EPOLL_CTL_MOD, listener_.get(), listener_key, 0);
        accept_resumes_ = Clock::now() + accept_rest;
    }

    void expire() {
        const auto now = Clock::now();
        for (auto it = connections_.begin(); it != connections_.end();) {
            const auto next = std::next(it);
            if (it->second.deadline <= now) close(it);
            it = next;
        }
        if (accept_resumes_ && *accept_resumes_ <= now) {
            (void)control(EPOLL_CTL_MOD, listener_.get(), listener_key, EPOLLIN);
            accept_resumes_.reset();
        }
    }

    // Moves an exchange on after an event; false when the connection is done with.
    bool advance(Connection& c) {
        try {
            switch (c.phase) {
                case Connection::Phase::reading: return read_request(c);
                case Connection::Phase::writing: return write_answer(c);
                case Connection::Phase::lingering: return drop_input(c);
            }
        } catch (const std::exception& e) {
            log::error("an ops endpoint connection failed and was closed", {{"error", e.what()}});
        }
        return false;
    }

    bool read_request(Connection& c) {
        char chunk[read_chunk];
        for (;;) {
            const ssize_t n = ::recv(c.fd.get(), chunk, sizeof chunk, 0);
            if (n == 0) return false;  // the client gave up before its request was complete
            if (n < 0) {
                if (errno == EINTR) continue;
                return would_block(errno);
            }
            c.received.append(chunk, static_cast<size_t>(n));
            if (c.body_at == 0) {
                const size_t end = find_head_end(c.received, c.searched);
                c.searched = c.received.size();
                if (end > limits_.max_head_bytes || (end == 0 && c.received.size() > limits_.max_head_bytes)) {
                    return start_answer(
                        c, serialize(error_response(
                               431, "the request head exceeds " + std::to_string(limits_.max_head_bytes) + " bytes")));
                }
                if (end == 0) continue;
                c.body_at = end;
                if (std::optional<std::string> answer = answer_head(c)) return start_answer(c, std::move(*answer));
            }
            // A POST whose body is awaited: answered once all of it is here (what follows is ignored).
            if (c.received.size() - c.body_at >= c.body_bytes) return start_answer(c, answer_post(c));
        }
    }

    // The answer to a complete head; nothing when it is a POST whose body is still to come.
    std::optional<std::string> answer_head(Connection& c) {
        Request request = parse_request_head(std::string_view(c.received).substr(0, c.body_at));
        if (request.refusal == 505) return serialize(error_response(505, "only HTTP/1.x is spoken here"));
        if (request.refusal != 0) return serialize(error_response(400, "malformed request"));
        if (const auto route = routes_.find(request.path); route != routes_.end()) {
            if (request.method != "GET" && request.method != "HEAD") {
                return serialize(error_response(405, "only GET and HEAD are answered"));
            }
            try {
                return serialize(route->second(), request.method == "HEAD");
            } catch (const std::exception& e) {
                log::error("an ops endpoint failed", {{"path", request.path}, {"error", e.what()}});
                return serialize(error_response(500, "the endpoint failed; its error is in the log"));
            }
        }
        if (!post_.claims || !post_.claims(request.path)) {
            std::string paths;
            for (const auto& [path, unused] : routes_) paths += (paths.empty() ? "" : ", ") + path;
            return serialize(error_response(404, "the paths served are " + paths));
        }
        PostRequest post;
        post.request = std::move(request);
        post.peer = c.peer;
        const BodyLength length = body_length(post.request);
        if (post.request.method != "POST") {
            post.refusal = 405;
            post.refusal_reason = "only POST is answered here";
        } else if (!length.given) {
            post.refusal = 411;
            post.refusal_reason = "a body with Content-Length is required (no Transfer-Encoding)";
        } else if (length.malformed) {
            post.refusal = 400;
            post.refusal_reason = "malformed Content-Length";
        } else if (length.bytes > limits_.max_body_bytes) {
            // Refused from its length, before any of it is read.
            post.refusal = 413;
            post.refusal_reason = "the body exceeds " + std::to_string(limits_.max_body_bytes) + " bytes";
        }
        if (post.refusal != 0) return post_answer(post);
        c.request = std::move(post.request);
        c.body_bytes = length.bytes;
        return std::nullopt;
    }

    std::string answer_post(Connection& c) {
        PostRequest post;
        post.request = std::move(c.request);
        post.body = std::string_view(c.received).substr(c.body_at, c.body_bytes);
        post.peer = c.peer;
        return post_answer(post);
    }

    std::string post_answer(const PostRequest& post) {
        try {
            return serialize(post_.answer(post), post.request.method == "HEAD");
        } catch (const std::exception& e) {
            log::error("an ops endpoint failed", {{"path", post.request.path}, {"error", e.what()}});
            return serialize(error_response(500, "the endpoint failed; its error is in the log"));
        }
    }

    bool start_answer(Connection& c, std::string answer) {
        c.phase = Connection::Phase::writing;
        c.answer = std::move(answer);
        c.received = {};
        return write_answer(c);
    }

    bool write_answer(Connection& c) {
        while (c.sent < c.answer.size()) {
            const ssize_t n = ::send(c.fd.get(), c.answer.data() + c.sent, c.answer.size() - c.sent, MSG_NOSIGNAL);
            if (n >= 0) {
                c.sent += static_cast<size_t>(n);
            } else if (would_block(errno)) {
                return watch(c, EPOLLOUT);
            } else if (errno != EINTR) {
                return false;
            }
        }
        // Answered: the client reads to the end of the stream, then closes its side.
        ::shutdown(c.fd.get(), SHUT_WR);
        c.phase = Connection::Phase::lingering;
        c.answer = {};
        c.deadline = Clock::now() + limits_.linger;
        return watch(c, EPOLLIN | EPOLLRDHUP);
    }

    bool drop_input(Connection& c) {
        char chunk[read_chunk];
        for (;;) {
            const ssize_t n = ::recv(c.fd.get(), chunk, sizeof chunk, 0);
            if (n == 0) return false;
            if (n < 0) {
                if (errno == EINTR) continue;
                return would_block(errno);
            }
            c.dropped += static_cast<size_t>(n);
            if (c.dropped > max_dropped_bytes) return false;
        }
    }

    Limits limits_;
    Routes routes_;
    PostRoutes post_;
    UniqueFd listener_, epoll_, wake_;
    int port_ = 0;
    std::map<uint64_t, Connection> connections_;  // by key, which grows with each accept: the first is the oldest
    std::map<std::string, size_t> per_peer_;      // open connections by client address
    uint64_t next_key_ = wake_key + 1;
    std::optional<Clock::time_point> accept_resumes_;
};

Server::Server(const std::string& address, Routes routes, Limits limits, PostRoutes post)
    : loop_(std::make_unique<Loop>(address, std::move(routes), limits, std::move(post))),
      thread_([loop = loop_.get()] { loop->run(); }) {}

Server::~Server() {
    loop_->stop();
    thread_.join();
}

int Server::port() const { return loop_->port(); }

}  // namespace warden::http
