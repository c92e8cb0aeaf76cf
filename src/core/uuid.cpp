#include "uuid.hpp"

#include <openssl/evp.h>

#include <array>
#include <memory>
#include <stdexcept>

namespace warden::uuid {
namespace {
// Namespace of warden's derived ids (itself a random version 4 UUID).
constexpr std::array<unsigned char, 16> warden_namespace = {0x6f, 0x1d, 0x3a, 0x52, 0x8b, 0x4e, 0x4c, 0x21,
                                                            0x9a, 0x07, 0x5e, 0x3b, 0x11, 0xc4, 0x82, 0xd9};

// Without the locale lookups of std::isxdigit.
bool is_hex_digit(char c) {
    const auto lower = static_cast<char>(c | 0x20);
    return (c >= '0' && c <= '9') || (lower >= 'a' && lower <= 'f');
}

// SHA-1, looked up once: EVP_sha1() makes OpenSSL 3 fetch the algorithm again on every digest.
const EVP_MD* sha1() {
    static const EVP_MD* const fetched = EVP_MD_fetch(nullptr, "SHA1", nullptr);
    return fetched ? fetched : EVP_sha1();
}
}  // namespace

bool is_valid(std::string_view text) {
    if (text.size() != 36) return false;
    for (size_t i = 0; i < text.size(); ++i) {
        const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? text[i] != '-' : !is_hex_digit(text[i])) return false;
    }
    return true;
}

std::string derive(std::string_view name) {
    // One digest context per thread, reset for each id: no allocation per call.
    thread_local const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(),
                                                                                       &EVP_MD_CTX_free);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_size = 0;
    if (!context || EVP_DigestInit_ex2(context.get(), sha1(), nullptr) != 1 ||
        EVP_DigestUpdate(context.get(), warden_namespace.data(), warden_namespace.size()) != 1 ||
        EVP_DigestUpdate(context.get(), name.data(), name.size()) != 1 ||
        EVP_DigestFinal_ex(context.get(), digest, &digest_size) != 1) {
        throw std::runtime_error("SHA-1 is not available from OpenSSL");
    }
    digest[6] = static_cast<unsigned char>((digest[6] & 0x0f) | 0x50);  // version 5
    digest[8] = static_cast<unsigned char>((digest[8] & 0x3f) | 0x80);  // RFC 4122 variant
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(36);
    for (int i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
        out.push_back(hex[digest[i] >> 4]);
        out.push_back(hex[digest[i] & 0xf]);
    }
    return out;
}

}  // namespace warden::uuid
