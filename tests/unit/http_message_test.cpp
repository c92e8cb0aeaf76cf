// Request heads as the ops HTTP server reads them, and the bytes of its answers.
#include "ops/http_message.hpp"

#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

using namespace warden::http;

TEST_CASE("http head: ends at the first blank line, CRLF or bare LF, wherever the bytes were split") {
    const std::string crlf = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\nleftover";
    CHECK(find_head_end(crlf) == crlf.find("leftover"));
    const std::string lf = "GET /metrics HTTP/1.1\nHost: x\n\nleftover";
    CHECK(find_head_end(lf) == lf.find("leftover"));
    const std::string mixed = "\r\n\nGET / HTTP/1.1\r\n\n";  // empty lines before the request do not end it
    CHECK(find_head_end(mixed) == mixed.size());

    CHECK(find_head_end("") == 0);
    CHECK(find_head_end("\r\n\r\n\r\n") == 0);
    CHECK(find_head_end("GET / HTTP/1.1\r\nHost: x\r\n") == 0);
    CHECK(find_head_end("GET / HTTP/1.1\r\nHost: x\r\n\r") == 0);
    CHECK(find_head_end("GET / HTTP/1.1\r\n\r\r\n") == 0);  // a lone CR is not a line end

    // Received a byte at a time, resuming where the previous search stopped: the same end.
    for (const std::string& head : {crlf, lf, mixed}) {
        size_t end = 0;
        for (size_t size = 1; size <= head.size() && end == 0; ++size)
            end = find_head_end(head.substr(0, size), size - 1);
        CHECK(end == find_head_end(head));
    }
}

TEST_CASE("http head: the request line gives method and path; anything malformed is refused with 400") {
    Request r = parse_request_head("GET /metrics?name[]=up HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n");
    CHECK(r.refusal == 0);
    CHECK(r.method == "GET");
    CHECK(r.path == "/metrics");
    r = parse_request_head("\r\nHEAD http://pod:9464/readyz HTTP/1.0\n\n");
    CHECK(r.refusal == 0);
    CHECK(r.method == "HEAD");
    CHECK(r.path == "/readyz");
    CHECK(parse_request_head("GET http://pod:9464 HTTP/1.1\r\n\r\n").path == "/");
    CHECK(parse_request_head("BREW /pot HTTP/1.1\r\n\r\n").refusal ==
          0);  // an unknown method is the server's to refuse

    for (const char* malformed :
         {"", "\r\n\r\n", "garbage\r\n\r\n", "GET\r\n\r\n", "GET /\r\n\r\n", "GET  / HTTP/1.1\r\n\r\n",
          "GET / HTTP/1.1 \r\n\r\n", "GET / HTTP/1.1 x\r\n\r\n", "GET metrics HTTP/1.1\r\n\r\n",
          "GET / http/1.1\r\n\r\n", "GET / HTTP/1\r\n\r\n", "GET / HTTP/10.1\r\n\r\n", "G(T / HTTP/1.1\r\n\r\n",
          "GET /a\x01 HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\nno colon\r\n\r\n", "GET / HTTP/1.1\r\nName : value\r\n\r\n",
          "GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", "GET / HTTP/1.1\r\n: empty name\r\n\r\n"}) {
        INFO(std::string(malformed));
        CHECK(parse_request_head(malformed).refusal == 400);
    }
    CHECK(parse_request_head("GET / HTTP/2.0\r\n\r\n").refusal == 505);
    CHECK(parse_request_head("GET / HTTP/0.9\r\n\r\n").refusal == 505);
}

TEST_CASE("http answer: the bytes the endpoints have always written; HEAD keeps the length and drops the body") {
    const Response ok{200, "application/json", "{\"status\":\"ok\"}\n"};
    CHECK(serialize(ok) ==
          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 16\r\nCache-Control: no-store\r\n"
          "Connection: close\r\n\r\n{\"status\":\"ok\"}\n");
    CHECK(serialize(ok, true) ==
          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 16\r\nCache-Control: no-store\r\n"
          "Connection: close\r\n\r\n");
    CHECK(serialize(Response{503, "application/json", "{}\n"}).rfind("HTTP/1.1 503 Service Unavailable\r\n", 0) == 0);

    const std::string refused = serialize(error_response(405, "only GET and HEAD are answered"));
    CHECK(refused.rfind("HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/plain; charset=utf-8\r\n", 0) == 0);
    CHECK(refused.find("Allow: GET, HEAD\r\n") != std::string::npos);
    CHECK(refused.find("\r\n\r\n405 Method Not Allowed: only GET and HEAD are answered\n") != std::string::npos);
    CHECK(serialize(error_response(431, "too big")).rfind("HTTP/1.1 431 Request Header Fields Too Large\r\n", 0) == 0);
    CHECK(serialize(error_response(400, "x")).find("Allow:") == std::string::npos);
}

TEST_CASE("http head: header fields are kept in order, found by any case, their values without spaces around") {
    const Request r = parse_request_head(
        "POST /admin/cache/flush HTTP/1.1\r\nHost: x\r\nx-warden-signature:  t=1,v1=ab \t\r\nContent-Length: 2\r\n"
        "X-Warden-Signature:second\r\n\r\n");
    REQUIRE(r.refusal == 0);
    CHECK(r.method == "POST");
    REQUIRE(r.fields.size() == 4);
    CHECK(r.fields[1].first == "x-warden-signature");
    CHECK(r.field_values("X-Warden-Signature") == std::vector<std::string_view>{"t=1,v1=ab", "second"});
    CHECK(r.field_values("content-length") == std::vector<std::string_view>{"2"});
    CHECK(r.field_values("Accept").empty());
}

TEST_CASE("http body: only a Content-Length body, the same in every field; chunked counts as none") {
    const auto length_of = [](const std::string& fields) {
        return body_length(parse_request_head("POST /p HTTP/1.1\r\n" + fields + "\r\n"));
    };
    CHECK_FALSE(length_of("").given);
    BodyLength b = length_of("Content-Length: 4096\r\n");
    CHECK((b.given && !b.malformed && b.bytes == 4096));
    b = length_of("Content-Length: 0\r\n");
    CHECK((b.given && !b.malformed && b.bytes == 0));
    b = length_of("Content-Length: 12\r\ncontent-length: 012\r\n");  // the same number twice
    CHECK((b.given && !b.malformed && b.bytes == 12));
    for (const char* malformed :
         {"Content-Length: x\r\n", "Content-Length: -1\r\n", "Content-Length: 1 2\r\n", "Content-Length:\r\n",
          "Content-Length: +5\r\n", "Content-Length: 1234567890123456789\r\n",
          "Content-Length: 2\r\nContent-Length: 3\r\n"}) {
        CAPTURE(malformed);
        b = length_of(malformed);
        CHECK(b.given);
        CHECK(b.malformed);
    }
    CHECK_FALSE(length_of("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n").given);
}

TEST_CASE("http answer: a 405 names the methods its response allows; the new statuses have their phrases") {
    Response post_only = error_response(405, "only POST is answered here");
    post_only.allow = "POST";
    const std::string refused = serialize(post_only);
    CHECK(refused.find("Allow: POST\r\n") != std::string::npos);
    CHECK(refused.find("GET") == std::string::npos);
    CHECK(serialize(error_response(401, "x")).rfind("HTTP/1.1 401 Unauthorized\r\n", 0) == 0);
    CHECK(serialize(error_response(411, "x")).rfind("HTTP/1.1 411 Length Required\r\n", 0) == 0);
    CHECK(serialize(error_response(413, "x")).rfind("HTTP/1.1 413 Content Too Large\r\n", 0) == 0);
    CHECK(serialize(error_response(429, "x")).rfind("HTTP/1.1 429 Too Many Requests\r\n", 0) == 0);
}
