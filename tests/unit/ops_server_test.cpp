// The operations endpoints over loopback HTTP: what they answer, and that probes and scrapes keep
// answering promptly whatever idle, trickling, abandoned or numerous connections others hold.
#include <warden/ops.hpp>

#include "../support/http_client.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace warden;
using namespace testhttp;

namespace {

// A live and ready worker, as the endpoints see it.
WorkerStats healthy() {
    WorkerStats s;
    s.brokers_reached = true;
    s.group_joined = true;
    s.last_progress = std::chrono::steady_clock::now();
    return s;
}

std::unique_ptr<OpsServer> serve(const std::string& address = "127.0.0.1:0", OpsServer::StatsSource stats = healthy) {
    return std::make_unique<OpsServer>(address, std::move(stats), MetricsContext{"events_plugin_ingestion", {}, {}});
}

std::vector<Connection> open_connections(int port, size_t count) {
    std::vector<Connection> held;
    held.reserve(count);
    for (size_t i = 0; i < count; ++i) held.emplace_back(port);
    return held;
}

// Each GET of each path answers 200 within `limit`; every slow or missing answer is reported.
void check_prompt_answers(int port, int rounds, Clock::duration limit = 200ms) {
    for (const char* path : {"/healthz", "/metrics"}) {
        for (int i = 0; i < rounds; ++i) {
            const auto start = Clock::now();
            const std::optional<HttpAnswer> answer = http_get(port, path, 500ms);
            const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
            INFO(std::string(path) << " round " << i << " took " << took.count() << " ms");
            CHECK((answer && answer->status == 200));
            CHECK(took < limit);
        }
    }
}

std::chrono::milliseconds since(Clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

}  // namespace

TEST_CASE("ops server: answers keep their bytes: status line, Content-Type, Content-Length, no-store, close") {
    auto ops = serve();
    const std::optional<std::string> live = exchange(ops->port(), "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    REQUIRE(live);
    CHECK(*live ==
          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 16\r\nCache-Control: no-store\r\n"
          "Connection: close\r\n\r\n{\"status\":\"ok\"}\n");

    const std::optional<HttpAnswer> metrics = http_get(ops->port(), "/metrics");
    REQUIRE(metrics);
    CHECK(metrics->head.rfind("HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n", 0) == 0);
    CHECK(metrics->head.find("Content-Length: " + std::to_string(metrics->body.size()) + "\r\n") != std::string::npos);
    CHECK(metrics->body.find("warden_ready 1\n") != std::string::npos);

    // Not ready: 503 and the reason, redacted like a log line.
    auto waiting = serve("127.0.0.1:0", [] {
        WorkerStats s = healthy();
        s.brokers_reached = false;
        s.broker_issue = "cannot reach \"phs_1234567890abcdefghij\"";
        return s;
    });
    const std::optional<std::string> ready = exchange(waiting->port(), "GET /readyz?verbose HTTP/1.0\r\n\r\n");
    REQUIRE(ready);
    CHECK(ready->rfind("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n", 0) == 0);
    CHECK(ready->find("Cache-Control: no-store\r\n") != std::string::npos);
    CHECK(ready->find(R"({"status":"unavailable","reason":"cannot reach \"phs_[redacted]\""})") != std::string::npos);
    CHECK(ready->find("phs_1234567890") == std::string::npos);
}

TEST_CASE("ops server: unknown path 404, other methods 405, HEAD has no body, malformed request 400") {
    auto ops = serve();
    const auto answer = [&](std::string_view request) {
        const std::optional<std::string> raw = exchange(ops->port(), request, 2s);
        INFO(request);
        REQUIRE(raw);
        const std::optional<HttpAnswer> parsed = parse_answer(*raw);
        REQUIRE(parsed);
        return *parsed;
    };
    CHECK(answer("GET /nope HTTP/1.1\r\n\r\n").status == 404);
    CHECK(answer("GET /metrics/extra HTTP/1.1\r\n\r\n").status == 404);
    const HttpAnswer post = answer("POST /metrics HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}");
    CHECK(post.status == 405);
    CHECK(post.head.find("Allow: GET, HEAD\r\n") != std::string::npos);
    CHECK(answer("DELETE /healthz HTTP/1.1\r\n\r\n").status == 405);

    const HttpAnswer head = answer("HEAD /healthz HTTP/1.1\r\n\r\n");
    CHECK(head.status == 200);
    CHECK(head.head.find("Content-Length: 16\r\n") != std::string::npos);
    CHECK(head.body.empty());

    CHECK(answer("garbage\r\n\r\n").status == 400);
    CHECK(answer("GET\r\n\r\n").status == 400);
    CHECK(answer("GET /healthz\r\n\r\n").status == 400);
    CHECK(answer("GET healthz HTTP/1.1\r\n\r\n").status == 400);
    CHECK(answer("GET /healthz HTTP/1.1 extra\r\n\r\n").status == 400);
    CHECK(answer("GET /healthz HTTP/2.0\r\n\r\n").status == 505);
    CHECK(answer("\r\nGET /healthz HTTP/1.1\r\n\r\n").status == 200);  // a stray CRLF first is tolerated
    CHECK(answer("GET /healthz HTTP/1.1\n\n").status == 200);          // bare LF line ends too
}

TEST_CASE("ops server: 64 idle, 16 half-sent and 16 never-read connections do not delay /healthz or /metrics") {
    auto ops = serve();
    std::vector<Connection> idle = open_connections(ops->port(), 64);
    std::vector<Connection> half_sent = open_connections(ops->port(), 16);
    for (Connection& c : half_sent) CHECK(c.send("GET /heal"));
    std::vector<Connection> never_read = open_connections(ops->port(), 16);
    for (Connection& c : never_read) CHECK(c.send("GET /metrics HTTP/1.1\r\n\r\n"));
    check_prompt_answers(ops->port(), 20);
}

TEST_CASE("ops server: requests trickled a byte every 100 ms are cut off at the deadline and delay no one") {
    auto ops = serve();
    std::vector<Connection> tricklers = open_connections(ops->port(), 8);
    std::atomic<bool> stop{false};
    const auto start = Clock::now();
    std::thread trickle([&] {
        // An endless header line: the request never completes, only the deadline can end it.
        const std::string request = "GET /metrics HTTP/1.1\r\nX-Slow: " + std::string(200, 'a');
        for (size_t at = 0; at < request.size() && !stop; ++at) {
            for (Connection& c : tricklers) (void)c.send(request.substr(at, 1), 10ms);
            std::this_thread::sleep_for(100ms);
        }
    });
    check_prompt_answers(ops->port(), 10);
    // Whatever each trickler sent, the server closed the connection within its deadline.
    for (size_t i = 0; i < tricklers.size(); ++i) {
        const std::optional<std::string> rest = tricklers[i].read_to_close(4s - since(start));
        INFO("trickler " << i << " after " << since(start).count() << " ms");
        CHECK(rest);
        if (rest) CHECK(rest->find("200 OK") == std::string::npos);
    }
    const auto all_cut = since(start);
    stop = true;
    trickle.join();
    CHECK(all_cut < 3500ms);
}

TEST_CASE("ops server: past the connection cap, the oldest unfinished connections are closed and probes answered") {
    auto ops = serve();
    std::vector<Connection> flood = open_connections(ops->port(), 400);
    check_prompt_answers(ops->port(), 5);
    // The first connections made way for the later ones: the server closed them, long before any deadline.
    CHECK(flood.front().read_to_close(500ms));
}

TEST_CASE("ops server: an oversized request header gets 431 or a closed connection, not a hang") {
    auto ops = serve();
    Connection big(ops->port());
    const auto start = Clock::now();
    (void)big.send("GET /metrics HTTP/1.1\r\nX-Big: " + std::string(256 * 1024, 'a'), 1s);
    const std::optional<std::string> answer = big.read_to_close(1s);
    REQUIRE(answer);
    CHECK((answer->empty() || answer->rfind("HTTP/1.1 431 ", 0) == 0));
    CHECK(since(start) < 1000ms);
    check_prompt_answers(ops->port(), 2);
}

TEST_CASE("ops server: stops within 100 ms of destruction while idle and half-sent connections are open") {
    auto ops = serve();
    std::vector<Connection> idle = open_connections(ops->port(), 64);
    for (size_t i = 0; i < idle.size(); i += 2) CHECK(idle[i].send("GET /readyz HTTP/1.1\r\n"));
    REQUIRE(http_get(ops->port(), "/healthz", 1s));
    const auto start = Clock::now();
    ops.reset();
    CHECK(since(start) < 100ms);
    CHECK(idle.front().read_to_close(500ms));  // its connections were closed with it
}

TEST_CASE("ops server: listens on IPv6 loopback, reports the port it picked, refuses what it cannot listen on") {
    auto v6 = serve("[::1]:0");
    CHECK(v6->port() > 0);
    const std::optional<HttpAnswer> answer = http_get(v6->port(), "/healthz", 1s, "::1");
    REQUIRE(answer);
    CHECK(answer->status == 200);

    auto named = serve("localhost:0");  // a name, resolved once
    CHECK(named->port() > 0);

    auto v4 = serve();
    const std::string taken = "127.0.0.1:" + std::to_string(v4->port());
    CHECK_THROWS_WITH_AS(serve(taken), doctest::Contains("--metrics-address"), std::runtime_error);
    CHECK_THROWS_AS(serve("127.0.0.1"), std::runtime_error);
    CHECK_THROWS_AS(serve("127.0.0.1:99999"), std::runtime_error);
    CHECK_THROWS_AS(serve("[::1:0"), std::runtime_error);
}
