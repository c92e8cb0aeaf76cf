#include "secret_file.hpp"

#include <warden/log.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace warden::cli {
namespace {

// A secret file larger than this is the wrong file (a PEM key is a few KiB).
constexpr size_t max_secret_file_bytes = 1 << 20;

std::string secret_of(std::string content, SecretFilePart part) {
    if (part == SecretFilePart::first_line) {
        // Only the line ending goes: a password may end with spaces.
        const size_t end = content.find('\n');
        if (end == std::string::npos) return content;
        content.resize(end > 0 && content[end - 1] == '\r' ? end - 1 : end);
        return content;
    }
    while (!content.empty() && (content.back() == '\n' || content.back() == '\r')) content.pop_back();
    return content;
}

}  // namespace

std::string read_secret_file(const std::string& setting, const std::string& path, const std::string& instead,
                             SecretFilePart part) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        throw std::runtime_error("the file given for " + setting + " does not exist (its name is not shown, in case " +
                                 "it is the secret itself: " + instead + ")");
    }
    const std::string what = "the file " + path + " given for " + setting;
    if (std::filesystem::is_directory(path, ec))
        throw std::runtime_error(what + " is a directory; name the file itself");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + what + ": " + std::strerror(errno));
    std::string content(max_secret_file_bytes + 1, '\0');
    in.read(content.data(), static_cast<std::streamsize>(content.size()));
    if (in.bad()) throw std::runtime_error("cannot read " + what + ": " + std::strerror(errno));
    content.resize(static_cast<size_t>(in.gcount()));
    if (content.size() > max_secret_file_bytes)
        throw std::runtime_error(what + " is larger than 1 MiB; is it the right file?");
    std::string secret = secret_of(std::move(content), part);
    // Registered before any check can fail, although no message below quotes it.
    log::add_sensitive_value(secret);
    if (secret.empty()) {
        throw std::runtime_error(what +
                                 (part == SecretFilePart::first_line ? " has an empty first line" : " is empty"));
    }
    if (secret.find('\0') != std::string::npos)
        throw std::runtime_error(what + " holds a NUL byte; is it a text file?");
    return secret;
}

}  // namespace warden::cli
