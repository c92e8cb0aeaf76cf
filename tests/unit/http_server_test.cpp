// The ops HTTP server's limits, exercised with small values: the connection cap keeps the newest,
// deadlines cut late clients and no one else, answers larger than the socket buffers still arrive.
#include "ops/http_server.hpp"

#include "../support/http_client.hpp"
#include "../support/slowdown.hpp"

#include <doctest/doctest.h>

#include <stdexcept>
#include <thread>
#include <vector>

using namespace warden::http;
using namespace testhttp;

namespace {

Routes test_routes() {
    Routes routes;
    routes["/ok"] = [] { return Response{200, "text/plain", "ok\n"}; };
    routes["/big"] = [] { return Response{200, "text/plain", std::string(16 << 20, 'x')}; };
    routes["/fails"] = []() -> Response { throw std::runtime_error("the stats source is gone"); };
    return routes;
}

bool answers_ok(int port, Clock::duration within = 200ms) {
    const std::optional<HttpAnswer> answer = http_get(port, "/ok", within);
    return answer && answer->status == 200 && answer->body == "ok\n";
}

}  // namespace

TEST_CASE("http server: past the cap the oldest connection is closed at once, the newer ones stay open") {
    Limits limits;
    limits.max_connections = 4;
    Server server("127.0.0.1:0", test_routes(), limits);
    std::vector<Connection> held;
    for (int i = 0; i < 6; ++i) held.emplace_back(server.port());
    // Six connections for four places: the first two made way.
    CHECK(held[0].read_to_close(500ms));
    CHECK(held[1].read_to_close(500ms));
    for (size_t i = 2; i < held.size(); ++i) CHECK_FALSE(held[i].read_to_close(50ms));
    // A probe is the newest: it takes the place of the oldest held connection and is answered.
    CHECK(answers_ok(server.port()));
    CHECK(held[2].read_to_close(500ms));
    CHECK_FALSE(held[3].read_to_close(50ms));
}

TEST_CASE("http server: when full, the peer holding the most connections loses its oldest; others keep theirs") {
    Limits limits;
    limits.max_connections = 8;
    Server server("127.0.0.1:0", test_routes(), limits);
    std::vector<Connection> quiet;  // opened first, so the oldest of all
    for (int i = 0; i < 2; ++i) quiet.emplace_back(server.port(), "127.0.0.1");
    std::vector<Connection> flood;
    for (int i = 0; i < 30; ++i) flood.emplace_back(server.port(), "127.0.0.1", 1s, "127.0.0.2");
    CHECK(flood.front().read_to_close(500ms));
    CHECK_FALSE(flood.back().read_to_close(50ms));
    for (Connection& c : quiet) CHECK_FALSE(c.read_to_close(50ms));
    CHECK(answers_ok(server.port()));
}

TEST_CASE("http server: a connection is cut at its deadline, not before, while others are answered") {
    Limits limits;
    limits.request_deadline = 400ms;
    Server server("127.0.0.1:0", test_routes(), limits);
    Connection slow(server.port());
    const auto start = Clock::now();
    CHECK(slow.send("GET /ok HTTP/1.1\r\n"));
    CHECK_FALSE(slow.read_to_close(200ms));
    CHECK(answers_ok(server.port()));
    CHECK(slow.read_to_close(600ms));
    CHECK(Clock::now() - start >= 400ms);
}

TEST_CASE("http server: a head of the largest size is answered, one byte more gets 431") {
    Limits limits;
    limits.max_head_bytes = 1024;
    Server server("127.0.0.1:0", test_routes(), limits);
    const std::string start = "GET /ok HTTP/1.1\r\nX-Pad: ";
    const std::string largest = start + std::string(limits.max_head_bytes - start.size() - 4, 'a') + "\r\n\r\n";
    REQUIRE(largest.size() == limits.max_head_bytes);
    const std::optional<std::string> fits = exchange(server.port(), largest, 1s);
    REQUIRE(fits);
    CHECK(fits->rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
    const std::optional<std::string> over = exchange(server.port(), start + "a" + largest.substr(start.size()), 1s);
    REQUIRE(over);
    CHECK(over->rfind("HTTP/1.1 431 Request Header Fields Too Large\r\n", 0) == 0);
}

TEST_CASE(
    "http server: an answer larger than the socket buffers reaches a reader; a client that never reads is "
    "cut at the deadline and blocks no one") {
    const double slowdown = test::slowdown();
    Limits limits;
    limits.request_deadline = std::chrono::duration_cast<std::chrono::milliseconds>(1000ms * slowdown);
    Server server("127.0.0.1:0", test_routes(), limits);
    Connection never_reads(server.port());
    CHECK(never_reads.send("GET /big HTTP/1.1\r\n\r\n"));
    const std::optional<HttpAnswer> big =
        http_get(server.port(), "/big", std::chrono::duration_cast<std::chrono::milliseconds>(5s * slowdown));
    REQUIRE(big);
    CHECK(big->body.size() == size_t{16} << 20);
    CHECK(answers_ok(server.port()));
    // Its answer stopped where the buffers filled, and the deadline ended the connection.
    std::this_thread::sleep_for(limits.request_deadline + 200ms);
    const std::optional<std::string> partial = never_reads.read_to_close(1s);
    REQUIRE(partial);
    CHECK(partial->size() < size_t{16} << 20);
}

TEST_CASE("http server: an endpoint that throws answers 500 and the server goes on serving") {
    Server server("127.0.0.1:0", test_routes());
    const std::optional<HttpAnswer> failed = http_get(server.port(), "/fails", 1s);
    REQUIRE(failed);
    CHECK(failed->status == 500);
    CHECK(failed->body.find("stats source") == std::string::npos);  // the details go to the log, not to the client
    CHECK(answers_ok(server.port()));
}

TEST_CASE("http server: a request with a body it does not read still gets its whole answer") {
    // Closing with unread input would reset the connection and drop what the kernel had yet to send.
    Server server("127.0.0.1:0", test_routes());
    Connection client(server.port());
    CHECK(client.send("GET /big HTTP/1.1\r\nContent-Length: 20000\r\n\r\n" + std::string(20000, 'b')));
    const std::optional<std::string> answer = client.read_to_close(5s);
    REQUIRE(answer);
    const std::optional<HttpAnswer> parsed = parse_answer(*answer);
    REQUIRE(parsed);
    CHECK(parsed->body.size() == size_t{16} << 20);
}

TEST_CASE("http server: a client that goes on sending after its answer is cut off, before the linger time") {
    Limits limits;
    limits.linger = 2000ms;
    Server server("127.0.0.1:0", test_routes(), limits);
    Connection chatty(server.port());
    CHECK(chatty.send("GET /ok HTTP/1.1\r\n\r\n"));
    const std::optional<std::string> answer = chatty.read_to_close(1s);
    REQUIRE(answer);
    CHECK(answer->substr(answer->size() - 3) == "ok\n");
    const auto start = Clock::now();
    while (Clock::now() - start < 1500ms && chatty.send(std::string(4096, 'b'), 100ms)) {
    }
    CHECK(Clock::now() - start < 1000ms);
}
