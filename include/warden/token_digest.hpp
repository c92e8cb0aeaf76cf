// token_digest: how warden holds a credential it must recognise but never show. A token is known
// by its SHA-256 digest, compared in constant time; a team's secrets live in memory in no other
// form (SPEC §5: a heap inspection of a worker must not reveal a secret it was not just sent).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace warden {

struct TokenDigest {
    std::array<unsigned char, 32> bytes{};

    static TokenDigest of(std::string_view token);
    // From 64 hex digits (either case); nothing for any other text.
    static std::optional<TokenDigest> from_hex(std::string_view hex);
    // Constant time (CRYPTO_memcmp): how long a comparison takes says nothing of where two differ.
    friend bool operator==(const TokenDigest& a, const TokenDigest& b);
    std::string hex() const;
};

// For unordered containers. The digest's bytes mixed under a random key of the process: digests of
// chosen tokens are public, so unmixed bytes would let a sender pick tokens that share a bucket.
struct TokenDigestHash {
    size_t operator()(const TokenDigest& digest) const;
};

// A secret token (a team's secret or backup, a project secret API key) as warden keeps it: its
// digest, and what finding it in a text takes. A key-shaped secret (`phs_` and key characters
// only, secret_keys.hpp) is found in any text by its shape. A secret of another shape is found by
// a rolling fingerprint of its bytes under a random base of the process, each candidate confirmed
// by its digest: the fingerprint narrows a search, it cannot be read back into the secret.
class SecretToken {
public:
    // Hashes `plaintext`, which the caller then forgets (see wipe()). Implicit: a secret column's
    // value is assigned to a team as it is read.
    // NOLINTNEXTLINE(google-explicit-constructor)
    SecretToken(std::string_view plaintext);
    // NOLINTNEXTLINE(google-explicit-constructor)
    SecretToken(const char* plaintext) : SecretToken(std::string_view(plaintext)) {}
    // NOLINTNEXTLINE(google-explicit-constructor)
    SecretToken(const std::string& plaintext) : SecretToken(std::string_view(plaintext)) {}
    // A key-shaped secret hashed elsewhere (by the database, so it never leaves the server).
    static SecretToken key_shaped_digest(const TokenDigest& digest);
    // A secret of another shape whose size, escaping and fingerprint (under fingerprint_base())
    // were computed elsewhere (by the database).
    static SecretToken from_fingerprint(const TokenDigest& digest, size_t size, bool json_escaped,
                                        uint64_t fingerprint);
    // The process's fingerprint base: Σ byte[i] · base^(size - 1 - i) modulo 2^61 - 1.
    static uint64_t fingerprint_base();

    const TokenDigest& digest() const { return digest_; }
    bool empty() const { return empty_; }  // an empty column: never matches
    bool key_shaped() const { return key_shaped_; }
    // Holds a character JSON writers escape (a quote, a backslash, a control character), so a JSON
    // text may spell it in more than one way.
    bool json_escaped() const { return json_escaped_; }
    bool matches(const TokenDigest& token) const { return !empty_ && digest_ == token; }
    bool matches(std::string_view token) const { return matches(TokenDigest::of(token)); }

    // The first occurrence of a secret that is not key-shaped in `text` at or after `from`, or npos
    // (always npos for a key-shaped or empty one: its shape finds it).
    size_t find_in(std::string_view text, size_t from = 0) const;
    size_t size() const { return size_; }

private:
    SecretToken() = default;
    TokenDigest digest_;
    size_t size_ = 0;
    uint64_t fingerprint_ = 0;  // not key-shaped only
    bool empty_ = true;
    bool key_shaped_ = false;
    bool json_escaped_ = false;
};

// Lower-case hex of bytes (digests, MACs).
std::string to_hex(std::span<const unsigned char> bytes);
// The value of one hex digit, either case; -1 for any other character.
constexpr int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Overwrites a buffer that held a secret (OPENSSL_cleanse: not optimised away).
void wipe(void* data, size_t size);
inline void wipe(std::string& text) {
    wipe(text.data(), text.size());
    text.clear();
}
// Zeroes what handling a text full of secrets (a teams file) leaves in the calling thread beyond
// the buffers the caller wipes: its vector registers, which copying or scanning a text leaves
// holding the last bytes (the dynamic linker's lazy-binding trampoline, signal frames and core
// dumps save them), and the stack below the caller, where its callees' frames stay.
void wipe_thread_traces();

}  // namespace warden
