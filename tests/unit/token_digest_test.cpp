// How secrets are held: SHA-256 digests compared in constant time, a team that keeps no plaintext,
// and the fingerprint search that finds a secret of another shape than a key in a text.
#include <warden/core.hpp>
#include <warden/token_digest.hpp>

#include <doctest/doctest.h>

#include <random>
#include <string>

using namespace warden;

namespace {

// The bytes of an object, searched for a secret: a Team must not hold one in any form.
template <typename T>
bool object_holds(const T& object, std::string_view text) {
    const std::string_view bytes(reinterpret_cast<const char*>(&object), sizeof object);
    return bytes.find(text) != std::string_view::npos;
}

}  // namespace

TEST_CASE("token digest: SHA-256 of the token, read back from hex, equal only to itself") {
    // FIPS 180-2's example.
    CHECK(TokenDigest::of("abc").hex() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const TokenDigest d = TokenDigest::of("phs_secret");
    CHECK(TokenDigest::from_hex(d.hex()) == d);
    std::string upper = d.hex();
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    CHECK(TokenDigest::from_hex(upper) == d);
    CHECK_FALSE(TokenDigest::from_hex(d.hex().substr(1)));
    CHECK_FALSE(TokenDigest::from_hex(d.hex() + "0"));
    CHECK_FALSE(TokenDigest::from_hex(std::string(63, '0') + "g"));
    CHECK_FALSE(TokenDigest::from_hex("sha256$" + d.hex()));
    CHECK_FALSE(TokenDigest::of("phs_secret") == TokenDigest::of("phs_secreT"));
    CHECK(TokenDigestHash{}(d) == TokenDigestHash{}(TokenDigest::of("phs_secret")));
}

TEST_CASE("secret token: kept as a digest, its shape known, an empty one matching nothing") {
    const SecretToken key("phs_0123456789abcdefABCDEF_-");
    CHECK(key.key_shaped());
    CHECK(key.matches("phs_0123456789abcdefABCDEF_-"));
    CHECK_FALSE(key.matches("phs_0123456789abcdefABCDEF_"));
    CHECK_FALSE(key.matches(""));
    CHECK(key.find_in("x phs_0123456789abcdefABCDEF_- y") == std::string_view::npos);  // its shape finds it

    CHECK_FALSE(SecretToken("phs_with space").key_shaped());
    CHECK_FALSE(SecretToken("legacy-secret").key_shaped());
    CHECK_FALSE(SecretToken("phs_").key_shaped());
    CHECK(SecretToken("phs_with\"quote").json_escaped());
    CHECK(SecretToken("tab\there").json_escaped());
    CHECK_FALSE(SecretToken("legacy-secret").json_escaped());

    const SecretToken empty("");
    CHECK(empty.empty());
    CHECK_FALSE(empty.matches(""));
    CHECK(empty.find_in("anything") == std::string_view::npos);

    const SecretToken from_server = SecretToken::key_shaped_digest(TokenDigest::of("phs_from_server"));
    CHECK(from_server.matches("phs_from_server"));
    CHECK(from_server.key_shaped());
}

TEST_CASE("team: its secrets are not in its memory, and each token is one credential") {
    const std::string secret = "phs_a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7r8";
    const std::string backup = "legacy secret of another shape, 40 chars";
    Team team;
    team.id = 7;
    team.api_token = "phc_public";
    team.secret_api_token = secret;
    team.secret_api_token_backup = backup;
    CHECK_FALSE(object_holds(team, secret));
    CHECK_FALSE(object_holds(team, secret.substr(4, 16)));
    CHECK_FALSE(object_holds(team, backup.substr(0, 16)));
    CHECK(team.is_secret(secret));
    CHECK(team.is_secret(backup));
    CHECK_FALSE(team.is_secret("phc_public"));

    std::vector<Credential> seen;
    team.for_each_token([&](const TokenDigest&, Credential c) { seen.push_back(c); });
    CHECK(seen == std::vector{Credential::public_token, Credential::secret, Credential::backup_secret});

    // A secret equal to the public token is the public token; a backup equal to the secret, the secret.
    Team odd;
    odd.api_token = "phs_same";
    odd.secret_api_token = "phs_same";
    odd.secret_api_token_backup = "phs_same";
    seen.clear();
    odd.for_each_token([&](const TokenDigest&, Credential c) { seen.push_back(c); });
    CHECK(seen == std::vector{Credential::public_token});
    CHECK_FALSE(odd.is_secret("phs_same"));
    Team rotated;
    rotated.api_token = "phc_x";
    rotated.secret_api_token = "phs_new";
    rotated.secret_api_token_backup = "phs_new";
    seen.clear();
    rotated.for_each_token([&](const TokenDigest&, Credential c) { seen.push_back(c); });
    CHECK(seen == std::vector{Credential::public_token, Credential::secret});
    Team empty_secret;
    empty_secret.api_token = "phc_y";
    empty_secret.secret_api_token = "";
    CHECK_FALSE(empty_secret.is_secret(""));
}

TEST_CASE("secret token: a secret of another shape is found wherever it is, and only where it is") {
    const std::string secret = "s3cr3t!";
    const SecretToken token(secret);
    CHECK(token.find_in(secret) == 0);
    CHECK(token.find_in("xx" + secret) == 2);
    CHECK(token.find_in("xx" + secret + "yy" + secret, 3) == 11);
    CHECK(token.find_in("s3cr3t") == std::string_view::npos);          // shorter than the secret
    CHECK(token.find_in("s3cr3t?s3cr3T!") == std::string_view::npos);  // one byte off, twice
    CHECK(token.find_in(secret, 1) == std::string_view::npos);
    CHECK(token.find_in(secret, 99) == std::string_view::npos);
    const std::string binary("\xff\x00\x80\x01", 4);
    CHECK(SecretToken(binary).find_in("ab" + binary + "cd") == 2);

    // Against std::string::find on texts of a small alphabet, where near misses are common.
    std::mt19937_64 rng(20261204);
    const std::string alphabet = "ab\"\\\xc3";
    auto random_text = [&](size_t size) {
        std::string s;
        for (size_t i = 0; i < size; ++i) s += alphabet[rng() % alphabet.size()];
        return s;
    };
    for (int round = 0; round < 20'000; ++round) {
        const std::string needle = random_text(1 + rng() % 6);
        const std::string text = random_text(rng() % 40);
        const size_t from = rng() % (text.size() + 2);
        CAPTURE(needle);
        CAPTURE(text);
        CAPTURE(from);
        const size_t want = from > text.size() ? std::string::npos : text.find(needle, from);
        CHECK(SecretToken(needle).find_in(text, from) == want);
    }
}
