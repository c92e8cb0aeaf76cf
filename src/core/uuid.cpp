#include "uuid.hpp"

#include <openssl/evp.h>

#include <array>
#include <cctype>

namespace warden::uuid {
namespace {
// Namespace of warden's derived ids (itself a random version 4 UUID).
constexpr std::array<unsigned char, 16> warden_namespace = {0x6f, 0x1d, 0x3a, 0x52, 0x8b, 0x4e, 0x4c, 0x21,
                                                            0x9a, 0x07, 0x5e, 0x3b, 0x11, 0xc4, 0x82, 0xd9};
}  // namespace

bool is_valid(std::string_view text) {
    if (text.size() != 36) return false;
    for (size_t i = 0; i < text.size(); ++i) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? text[i] != '-' : !std::isxdigit(static_cast<unsigned char>(text[i]))) return false;
    }
    return true;
}

std::string derive(std::string_view name) {
    std::string input(reinterpret_cast<const char*>(warden_namespace.data()), warden_namespace.size());
    input.append(name);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_size = 0;
    EVP_Digest(input.data(), input.size(), digest, &digest_size, EVP_sha1(), nullptr);
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
