// HTTP/1.x messages as the operations endpoints speak them: where a request's head ends, what its
// request line and header fields ask for, how long its body is, and the bytes of an answer.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace warden::http {

// Where the head of a request (request line and header fields) ends, just past its blank line, in
// the bytes received so far; 0 while it is incomplete. The search resumes near `searched` (the size
// at the previous call), so a head trickled a byte at a time is not scanned again and again.
// Empty lines before the request line are skipped; lines may end in CRLF or a bare LF.
size_t find_head_end(std::string_view received, size_t searched = 0);

// What a complete head asks for.
struct Request {
    int refusal = 0;  // 400 when malformed, 505 for another major HTTP version; 0 when well formed
    std::string method;
    std::string path;  // the target's path, without query or fragment
    // The header fields in the order sent: names as sent, values without surrounding spaces.
    std::vector<std::pair<std::string, std::string>> fields;

    // The values of the fields named `name` (case-insensitive), in order.
    std::vector<std::string_view> field_values(std::string_view name) const;
};

// Reads a head as find_head_end delimits it.
Request parse_request_head(std::string_view head);

// What a request says about its body: only a Content-Length body is read (no chunked encoding).
struct BodyLength {
    bool given = false;      // a Content-Length field, and no Transfer-Encoding
    bool malformed = false;  // Content-Length not a number, or fields that disagree
    size_t bytes = 0;
};
BodyLength body_length(const Request& request);

struct Response {
    int status = 200;
    std::string content_type;
    std::string body;
    std::string allow = "GET, HEAD";  // the methods a 405 names
};

// An error answer: a plain-text body that says what was wrong.
Response error_response(int status, std::string_view detail);

// The status line, Content-Type, Content-Length, Cache-Control: no-store, Connection: close (and
// Allow on a 405), then the body unless the request was a HEAD.
std::string serialize(const Response& response, bool head_only = false);

}  // namespace warden::http
