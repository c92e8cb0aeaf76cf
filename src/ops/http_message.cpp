// Request heads read strictly enough to refuse garbage, answers written byte for byte as the
// endpoints have always written them.
#include "http_message.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

namespace warden::http {
namespace {

constexpr std::string_view line_breaks = "\r\n";

// RFC 9110 token characters: methods and header field names.
bool is_token(std::string_view text) {
    static constexpr std::string_view punctuation = "!#$%&'*+-.^_`|~";
    return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               punctuation.find(c) != std::string_view::npos;
    });
}

bool is_visible(std::string_view text) {
    return std::all_of(text.begin(), text.end(), [](char c) { return c > ' ' && c < 0x7f; });
}

bool equal_ignoring_case(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

// A field value without the spaces and tabs around it (RFC 9110 OWS).
std::string_view trimmed(std::string_view value) {
    constexpr std::string_view spaces = " \t";
    const size_t first = value.find_first_not_of(spaces);
    if (first == std::string_view::npos) return {};
    return value.substr(first, value.find_last_not_of(spaces) - first + 1);
}

// The lines of a head, without their CR LF or LF, up to its blank line.
std::vector<std::string_view> head_lines(std::string_view head) {
    std::vector<std::string_view> lines;
    head.remove_prefix(std::min(head.find_first_not_of(line_breaks), head.size()));
    for (size_t end; (end = head.find('\n')) != std::string_view::npos;) {
        std::string_view line = head.substr(0, end);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty()) break;
        lines.push_back(line);
        head.remove_prefix(end + 1);
    }
    return lines;
}

// The path of an origin-form ("/metrics?x") or absolute-form ("http://host/metrics") target;
// empty when it is neither.
std::string_view target_path(std::string_view target) {
    for (std::string_view scheme : {"http://", "https://"}) {
        if (target.substr(0, scheme.size()) == scheme) {
            const size_t slash = target.find('/', scheme.size());
            target = slash == std::string_view::npos ? "/" : target.substr(slash);
        }
    }
    if (target.empty() || target.front() != '/') return {};
    return target.substr(0, target.find_first_of("?#"));
}

const char* reason_phrase(int status) {
    switch (status) {
        case 200: return "OK";
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 411: return "Length Required";
        case 413: return "Content Too Large";
        case 429: return "Too Many Requests";
        case 431: return "Request Header Fields Too Large";
        case 500: return "Internal Server Error";
        case 503: return "Service Unavailable";
        case 505: return "HTTP Version Not Supported";
        default: return "Unknown";
    }
}

}  // namespace

size_t find_head_end(std::string_view received, size_t searched) {
    const size_t start = received.find_first_not_of(line_breaks);
    if (start == std::string_view::npos) return 0;
    // Two bytes back: the blank line may have begun in the previous chunk ("\n\r" then "\n").
    for (size_t at = std::max(start, searched < 2 ? 0 : searched - 2);
         (at = received.find('\n', at)) != std::string_view::npos; ++at) {
        const bool empty_line = (at - start >= 1 && received[at - 1] == '\n') ||
                                (at - start >= 2 && received[at - 1] == '\r' && received[at - 2] == '\n');
        if (empty_line) return at + 1;
    }
    return 0;
}

Request parse_request_head(std::string_view head) {
    Request request;
    request.refusal = 400;
    const std::vector<std::string_view> lines = head_lines(head);
    if (lines.empty()) return request;
    // method SP request-target SP HTTP-version, single spaces.
    const std::string_view line = lines.front();
    const size_t first = line.find(' ');
    const size_t second = first == std::string_view::npos ? first : line.find(' ', first + 1);
    if (second == std::string_view::npos || line.find(' ', second + 1) != std::string_view::npos) return request;
    const std::string_view method = line.substr(0, first);
    const std::string_view target = line.substr(first + 1, second - first - 1);
    const std::string_view version = line.substr(second + 1);
    const std::string_view path = target_path(target);
    const bool http_version = version.size() == 8 && version.substr(0, 5) == "HTTP/" && version[6] == '.' &&
                              std::isdigit(static_cast<unsigned char>(version[5])) &&
                              std::isdigit(static_cast<unsigned char>(version[7]));
    if (!is_token(method) || !is_visible(target) || path.empty() || !http_version) return request;
    for (size_t i = 1; i < lines.size(); ++i) {
        // name ":" value; no whitespace before the colon, no folded continuation lines.
        const size_t colon = lines[i].find(':');
        if (colon == std::string_view::npos || !is_token(lines[i].substr(0, colon))) return request;
        request.fields.emplace_back(lines[i].substr(0, colon), trimmed(lines[i].substr(colon + 1)));
    }
    request.refusal = version[5] == '1' ? 0 : 505;
    request.method = method;
    request.path = path;
    return request;
}

std::vector<std::string_view> Request::field_values(std::string_view name) const {
    std::vector<std::string_view> values;
    for (const auto& [field, value] : fields) {
        if (equal_ignoring_case(field, name)) values.emplace_back(value);
    }
    return values;
}

BodyLength body_length(const Request& request) {
    BodyLength length;
    // A chunked body is not read: such a request counts as one without a length.
    if (!request.field_values("Transfer-Encoding").empty()) return length;
    const std::vector<std::string_view> values = request.field_values("Content-Length");
    if (values.empty()) return length;
    length.given = true;
    for (size_t i = 0; i < values.size(); ++i) {
        // Digits only; 18 of them cannot overflow, and no body the server reads comes close.
        const std::string_view value = values[i];
        const bool digits = !value.empty() && value.size() <= 18 &&
                            std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; });
        const size_t bytes = digits ? std::stoull(std::string(value)) : 0;
        // Two lengths that disagree: which one frames the body is anyone's guess (smuggling).
        if (!digits || (i > 0 && bytes != length.bytes)) {
            length.malformed = true;
            return length;
        }
        length.bytes = bytes;
    }
    return length;
}

Response error_response(int status, std::string_view detail) {
    return Response{status, "text/plain; charset=utf-8",
                    std::to_string(status) + " " + reason_phrase(status) + ": " + std::string(detail) + "\n"};
}

std::string serialize(const Response& response, bool head_only) {
    std::string out = "HTTP/1.1 " + std::to_string(response.status) + " " + reason_phrase(response.status) +
                      "\r\nContent-Type: " + response.content_type +
                      "\r\nContent-Length: " + std::to_string(response.body.size()) +
                      "\r\nCache-Control: no-store\r\nConnection: close\r\n";
    if (response.status == 405) out += "Allow: " + response.allow + "\r\n";
    out += "\r\n";
    if (!head_only) out += response.body;
    return out;
}

}  // namespace warden::http
