#include <warden/secret_keys.hpp>
#include <warden/token_digest.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstring>
#include <random>

namespace warden {
namespace {

// SHA-256, looked up once: EVP_sha256() makes OpenSSL 3 fetch the algorithm again on every digest.
const EVP_MD* sha256() {
    static const EVP_MD* const fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return fetched ? fetched : EVP_sha256();
}

// Random per process, so neither bucket choice nor fingerprints can be computed ahead of time.
struct ProcessKeys {
    uint64_t bucket_key;
    uint64_t fingerprint_base;  // in [2^32, 2^61 - 1)
};
const ProcessKeys& process_keys() {
    static const ProcessKeys keys = [] {
        std::random_device source;
        auto draw = [&] { return (static_cast<uint64_t>(source()) << 32) ^ source(); };
        return ProcessKeys{draw(), (1ULL << 32) + draw() % ((1ULL << 61) - 1 - (1ULL << 32))};
    }();
    return keys;
}

// Arithmetic modulo the Mersenne prime 2^61 - 1 for the rolling fingerprint.
constexpr uint64_t prime = (1ULL << 61) - 1;
__extension__ using uint128 = unsigned __int128;  // GCC and Clang have it; -Wpedantic does not know
uint64_t mul_mod(uint64_t a, uint64_t b) {
    const uint128 product = static_cast<uint128>(a) * b;
    uint64_t r = static_cast<uint64_t>(product & prime) + static_cast<uint64_t>(product >> 61);
    return r >= prime ? r - prime : r;
}
uint64_t add_mod(uint64_t a, uint64_t b) {
    const uint64_t r = a + b;
    return r >= prime ? r - prime : r;
}
uint64_t pow_mod(uint64_t base, size_t exponent) {
    uint64_t r = 1;
    for (; exponent != 0; exponent >>= 1, base = mul_mod(base, base)) {
        if (exponent & 1) r = mul_mod(r, base);
    }
    return r;
}
uint64_t fingerprint(std::string_view text) {
    const uint64_t base = process_keys().fingerprint_base;
    uint64_t h = 0;
    for (const char c : text) h = add_mod(mul_mod(h, base), static_cast<unsigned char>(c));
    return h;
}

}  // namespace

TokenDigest TokenDigest::of(std::string_view token) {
    TokenDigest digest;
    unsigned int size = 0;
    EVP_Digest(token.data(), token.size(), digest.bytes.data(), &size, sha256(), nullptr);
    return digest;
}

std::optional<TokenDigest> TokenDigest::from_hex(std::string_view hex) {
    TokenDigest digest;
    if (hex.size() != digest.bytes.size() * 2) return std::nullopt;
    for (size_t i = 0; i < digest.bytes.size(); ++i) {
        const int high = hex_digit(hex[2 * i]), low = hex_digit(hex[2 * i + 1]);
        if (high < 0 || low < 0) return std::nullopt;
        digest.bytes[i] = static_cast<unsigned char>(high * 16 + low);
    }
    return digest;
}

bool operator==(const TokenDigest& a, const TokenDigest& b) {
    return CRYPTO_memcmp(a.bytes.data(), b.bytes.data(), a.bytes.size()) == 0;
}

std::string TokenDigest::hex() const { return to_hex(bytes); }

std::string to_hex(std::span<const unsigned char> bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (const unsigned char b : bytes) {
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    return out;
}

size_t TokenDigestHash::operator()(const TokenDigest& digest) const {
    uint64_t word;
    static_assert(sizeof word <= sizeof digest.bytes);
    std::memcpy(&word, digest.bytes.data(), sizeof word);
    // A keyed bijection (xor, then the finaliser of SplitMix64): a bucket collision takes a full
    // 64-bit collision of the digests, out of any sender's reach.
    uint64_t z = word ^ process_keys().bucket_key;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return static_cast<size_t>(z ^ (z >> 31));
}

SecretToken::SecretToken(std::string_view plaintext)
    : digest_(TokenDigest::of(plaintext)), size_(plaintext.size()), empty_(plaintext.empty()) {
    const secret_keys::Span key = secret_keys::find_key(plaintext);
    key_shaped_ = key.begin == 0 && key.size == plaintext.size();
    if (!key_shaped_) fingerprint_ = fingerprint(plaintext);
    for (const char c : plaintext) {
        json_escaped_ = json_escaped_ || c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20;
    }
}

SecretToken SecretToken::key_shaped_digest(const TokenDigest& digest) {
    SecretToken secret;
    secret.digest_ = digest;
    secret.empty_ = false;
    secret.key_shaped_ = true;
    return secret;
}

SecretToken SecretToken::from_fingerprint(const TokenDigest& digest, size_t size, bool json_escaped,
                                          uint64_t fingerprint) {
    SecretToken secret;
    secret.digest_ = digest;
    secret.size_ = size;
    secret.empty_ = size == 0;
    secret.json_escaped_ = json_escaped;
    secret.fingerprint_ = fingerprint;
    return secret;
}

uint64_t SecretToken::fingerprint_base() { return process_keys().fingerprint_base; }

size_t SecretToken::find_in(std::string_view text, size_t from) const {
    if (empty_ || key_shaped_ || from > text.size() || text.size() - from < size_) return std::string_view::npos;
    // Rabin-Karp: the fingerprint of each window of the secret's length, rolled one byte at a time;
    // a window whose fingerprint matches is confirmed by its digest.
    const uint64_t base = process_keys().fingerprint_base;
    const uint64_t leaving_weight = pow_mod(base, size_ - 1);
    uint64_t h = fingerprint(text.substr(from, size_));
    for (size_t at = from;; ++at) {
        if (h == fingerprint_ && TokenDigest::of(text.substr(at, size_)) == digest_) return at;
        if (at + size_ == text.size()) return std::string_view::npos;
        const auto leaving = static_cast<unsigned char>(text[at]);
        const auto entering = static_cast<unsigned char>(text[at + size_]);
        h = add_mod(h, prime - mul_mod(leaving, leaving_weight));
        h = add_mod(mul_mod(h, base), entering);
    }
}

void wipe(void* data, size_t size) { OPENSSL_cleanse(data, size); }

namespace {

// Below the caller's frame: the 64 KiB under it, far more than parsing and hashing use.
[[gnu::noinline]] void wipe_stack_below() {
    unsigned char area[64 * 1024];
    OPENSSL_cleanse(area, sizeof area);
}

void wipe_vector_registers() {
#if defined(__x86_64__)
    // The registers the machine has: xmm0-15 always; their upper halves with AVX (vzeroall); and
    // with AVX-512, the sixteen more that glibc's string functions use there.
    if (__builtin_cpu_supports("avx")) {
        __asm__ volatile("vzeroall" ::: "memory");
    } else {
        __asm__ volatile(
            "pxor %%xmm0, %%xmm0\n pxor %%xmm1, %%xmm1\n pxor %%xmm2, %%xmm2\n pxor %%xmm3, %%xmm3\n"
            "pxor %%xmm4, %%xmm4\n pxor %%xmm5, %%xmm5\n pxor %%xmm6, %%xmm6\n pxor %%xmm7, %%xmm7\n"
            "pxor %%xmm8, %%xmm8\n pxor %%xmm9, %%xmm9\n pxor %%xmm10, %%xmm10\n pxor %%xmm11, %%xmm11\n"
            "pxor %%xmm12, %%xmm12\n pxor %%xmm13, %%xmm13\n pxor %%xmm14, %%xmm14\n pxor %%xmm15, %%xmm15" ::
                : "memory");
    }
    if (__builtin_cpu_supports("avx512f")) {
        __asm__ volatile(
            "vpxord %%zmm16, %%zmm16, %%zmm16\n vpxord %%zmm17, %%zmm17, %%zmm17\n"
            "vpxord %%zmm18, %%zmm18, %%zmm18\n vpxord %%zmm19, %%zmm19, %%zmm19\n"
            "vpxord %%zmm20, %%zmm20, %%zmm20\n vpxord %%zmm21, %%zmm21, %%zmm21\n"
            "vpxord %%zmm22, %%zmm22, %%zmm22\n vpxord %%zmm23, %%zmm23, %%zmm23\n"
            "vpxord %%zmm24, %%zmm24, %%zmm24\n vpxord %%zmm25, %%zmm25, %%zmm25\n"
            "vpxord %%zmm26, %%zmm26, %%zmm26\n vpxord %%zmm27, %%zmm27, %%zmm27\n"
            "vpxord %%zmm28, %%zmm28, %%zmm28\n vpxord %%zmm29, %%zmm29, %%zmm29\n"
            "vpxord %%zmm30, %%zmm30, %%zmm30\n vpxord %%zmm31, %%zmm31, %%zmm31" ::
                : "memory");
    }
#endif
}

}  // namespace

void wipe_thread_traces() {
    wipe_stack_below();
    wipe_vector_registers();
}

}  // namespace warden
