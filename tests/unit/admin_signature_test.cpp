// The admin requests' signatures: the header's format, every reason to refuse one, rotation with
// two secrets, replays, and comparisons that do the same work wherever a forged digest differs.
#include <warden/admin.hpp>

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

using namespace warden;

namespace {

const std::string current_secret = "0123456789abcdef0123456789abcdef-current";
const std::string previous_secret = "fedcba9876543210fedcba9876543210-previous";
const std::string flush_body = R"({"action":"flush"})";
constexpr int64_t now = 1'700'000'000;

// A clock the test moves.
struct TestClock {
    int64_t seconds = now;
    AdminAuthenticator::UnixClock function() {
        return [this] { return seconds; };
    }
};

AdminAuthOptions options(std::vector<std::string> secrets = {current_secret}) {
    AdminAuthOptions o;
    o.secrets = std::move(secrets);
    return o;
}

// The header with one hex digit of v1 changed at `digit` (0 to 63).
std::string with_digit_changed(std::string header, size_t digit) {
    const size_t at = header.find("v1=") + 3 + digit;
    header[at] = header[at] == '0' ? '1' : '0';
    return header;
}

}  // namespace

TEST_CASE("admin signature: t and the hex HMAC-SHA256 of \"<t>.<body>\", as openssl dgst -hmac computes it") {
    // printf '%s' '1700000000.{"action":"flush"}' | openssl dgst -sha256 -hmac "$secret"
    CHECK(sign_admin_request(current_secret, now, flush_body) ==
          "t=1700000000,v1=fa140c38c5b693e0e0d62b34f1821dbcc2585a5059f400b7b2be67b4d856c046");
    CHECK(sign_admin_request(current_secret, now, "") ==
          "t=1700000000,v1=5428d08b918c919a77276befbf41464f0a3a547f096e8d782d95834567b3ea4e");
}

TEST_CASE("admin signature: a good signature is accepted, within the tolerance either way") {
    TestClock clock;
    AdminAuthenticator auth(options(), clock.function());
    const AdminVerdict verdict = auth.verify(sign_admin_request(current_secret, now, flush_body), flush_body);
    CHECK(verdict.outcome == AdminAuthOutcome::accepted);
    CHECK(verdict.accepted());
    CHECK(verdict.secret_index == 0);
    CHECK(auth.verify(sign_admin_request(current_secret, now - 300, flush_body), flush_body).accepted());
    CHECK(auth.verify(sign_admin_request(current_secret, now + 300, flush_body), flush_body).accepted());
    // Upper-case hex digits are the same digest.
    std::string upper = sign_admin_request(current_secret, now - 1, flush_body);
    for (size_t i = upper.find("v1=") + 3; i < upper.size(); ++i) upper[i] = static_cast<char>(std::toupper(upper[i]));
    CHECK(auth.verify(upper, flush_body).accepted());
}

TEST_CASE("admin signature: each refusal names what failed and never quotes the signature or a secret") {
    TestClock clock;
    AdminAuthenticator auth(options(), clock.function());
    const std::string good = sign_admin_request(current_secret, now, flush_body);
    const std::string v1 = good.substr(good.find("v1=") + 3);
    const auto refused = [&](std::optional<std::string_view> header, std::string_view body, AdminAuthOutcome expected,
                             std::string_view named) {
        CAPTURE(header.value_or("(none)"));
        const AdminVerdict verdict = auth.verify(header, body);
        CHECK(verdict.outcome == expected);
        CHECK_FALSE(verdict.accepted());
        CHECK(verdict.reason.find(named) != std::string::npos);
        CHECK(verdict.reason.find(v1) == std::string::npos);
        CHECK(verdict.reason.find(current_secret) == std::string::npos);
    };
    refused(std::nullopt, flush_body, AdminAuthOutcome::missing_header, "missing");
    refused("", flush_body, AdminAuthOutcome::malformed_header, "malformed");
    // t malformed: missing, empty, signed, fractional, not a number, too long.
    for (const std::string t : {"", "+1700000000", "-1", "1700000000.5", "now", "17000000000000000000000"}) {
        refused("t=" + t + ",v1=" + v1, flush_body, AdminAuthOutcome::malformed_header, "malformed");
    }
    refused("v1=" + v1, flush_body, AdminAuthOutcome::malformed_header, "malformed");
    refused("t=1700000000", flush_body, AdminAuthOutcome::malformed_header, "malformed");
    refused("v1=" + v1 + ",t=1700000000", flush_body, AdminAuthOutcome::malformed_header, "malformed");
    refused("t=1700000000;v1=" + v1, flush_body, AdminAuthOutcome::malformed_header, "malformed");
    refused(good + ",v1=" + v1, flush_body, AdminAuthOutcome::malformed_header, "malformed");
    // v1 malformed: empty, not hex, too short, too long, odd.
    refused("t=1700000000,v1=", flush_body, AdminAuthOutcome::malformed_header, "malformed");
    refused("t=1700000000,v1=" + std::string(64, 'g'), flush_body, AdminAuthOutcome::malformed_header, "malformed");
    refused("t=1700000000,v1=" + v1.substr(0, 62), flush_body, AdminAuthOutcome::malformed_header, "malformed");
    refused("t=1700000000,v1=" + v1 + "00", flush_body, AdminAuthOutcome::malformed_header, "malformed");
    refused("t=1700000000,v1=" + v1.substr(0, 63), flush_body, AdminAuthOutcome::malformed_header, "malformed");
    refused("t=1700000000,v1=" + v1.substr(0, 63) + " ", flush_body, AdminAuthOutcome::malformed_header, "malformed");
    // Stale: past and future beyond the tolerance.
    refused(sign_admin_request(current_secret, now - 301, flush_body), flush_body, AdminAuthOutcome::stale_timestamp,
            "stale");
    refused(sign_admin_request(current_secret, now + 301, flush_body), flush_body, AdminAuthOutcome::stale_timestamp,
            "stale");
    // Signed with another secret, or for another body or time.
    refused(sign_admin_request(std::string(40, 'x'), now, flush_body), flush_body, AdminAuthOutcome::bad_signature,
            "bad signature");
    refused(good, R"({"action":"invalidate","team_id":2})", AdminAuthOutcome::bad_signature, "bad signature");
    refused("t=1700000001,v1=" + v1, flush_body, AdminAuthOutcome::bad_signature, "bad signature");
    // None of the refusals used it up.
    CHECK(auth.remembered() == 0);
    CHECK(auth.verify(good, flush_body).accepted());
}

TEST_CASE("admin signature: a signature is good once; it is remembered until it leaves the window") {
    TestClock clock;
    AdminAuthenticator auth(options(), clock.function());
    const std::string header = sign_admin_request(current_secret, now, flush_body);
    CHECK(auth.verify(header, flush_body).accepted());
    const AdminVerdict again = auth.verify(header, flush_body);
    CHECK(again.outcome == AdminAuthOutcome::replayed);
    CHECK(again.reason.find("replayed") != std::string::npos);
    clock.seconds = now + 300;  // the last second of its window: still refused
    CHECK(auth.verify(header, flush_body).outcome == AdminAuthOutcome::replayed);
    CHECK(auth.remembered() == 1);
    clock.seconds = now + 301;  // out of the window: stale now, and forgotten
    CHECK(auth.verify(header, flush_body).outcome == AdminAuthOutcome::stale_timestamp);
    CHECK(auth.remembered() == 0);
    // The same body at another second is another signature.
    CHECK(auth.verify(sign_admin_request(current_secret, now + 301, flush_body), flush_body).accepted());
}

TEST_CASE("admin signature: with the replay memory full, new requests are refused, not old ones forgotten") {
    TestClock clock;
    AdminAuthOptions o = options();
    o.max_remembered = 2;
    AdminAuthenticator auth(o, clock.function());
    const std::string first = sign_admin_request(current_secret, now, flush_body);
    CHECK(auth.verify(first, flush_body).accepted());
    CHECK(auth.verify(sign_admin_request(current_secret, now + 10, flush_body), flush_body).accepted());
    const AdminVerdict full = auth.verify(sign_admin_request(current_secret, now + 20, flush_body), flush_body);
    CHECK(full.outcome == AdminAuthOutcome::replay_memory_full);
    CHECK(auth.remembered() == 2);
    CHECK(auth.verify(first, flush_body).outcome == AdminAuthOutcome::replayed);  // still remembered
    // A forged one is refused for its signature, not for the memory.
    CHECK(auth.verify(sign_admin_request(std::string(40, 'x'), now, flush_body), flush_body).outcome ==
          AdminAuthOutcome::bad_signature);
    clock.seconds = now + 301;  // the first left the window: room for one
    CHECK(auth.verify(sign_admin_request(current_secret, now + 301, flush_body), flush_body).accepted());
    CHECK(auth.verify(sign_admin_request(current_secret, now + 302, flush_body), flush_body).outcome ==
          AdminAuthOutcome::replay_memory_full);
}

TEST_CASE("admin signature: during a rotation both secrets are accepted, each through the same comparisons") {
    TestClock clock;
    size_t calls = 0;
    AdminAuthenticator auth(options({current_secret, previous_secret}), clock.function(),
                            [&](const AdminDigest& a, const AdminDigest& b) {
                                ++calls;
                                return admin_digests_equal(a, b);
                            });
    const AdminVerdict current = auth.verify(sign_admin_request(current_secret, now, flush_body), flush_body);
    CHECK(current.accepted());
    CHECK(current.secret_index == 0);
    CHECK(calls == 2);
    const AdminVerdict previous = auth.verify(sign_admin_request(previous_secret, now, flush_body), flush_body);
    CHECK(previous.accepted());
    CHECK(previous.secret_index == 1);
    CHECK(calls == 4);
    CHECK(auth.verify(sign_admin_request(std::string(40, 'x'), now, flush_body), flush_body).outcome ==
          AdminAuthOutcome::bad_signature);
    CHECK(calls == 6);
    // Refused before any comparison: a malformed header.
    CHECK(auth.verify("t=1700000000,v1=00", flush_body).outcome == AdminAuthOutcome::malformed_header);
    CHECK(calls == 6);
}

TEST_CASE("admin signature: a digest wrong at its first, a middle or its last byte takes the same path") {
    TestClock clock;
    struct Observed {
        size_t calls = 0;
        size_t bytes = 0;
        size_t equal = 0;
    };
    Observed observed;
    AdminAuthenticator auth(options({current_secret, previous_secret}), clock.function(),
                            [&](const AdminDigest& a, const AdminDigest& b) {
                                ++observed.calls;
                                observed.bytes += a.size() + b.size();
                                const bool same = admin_digests_equal(a, b);
                                observed.equal += same ? 1 : 0;
                                return same;
                            });
    const std::string good = sign_admin_request(current_secret, now, flush_body);
    std::vector<Observed> paths;
    for (const size_t digit : {size_t{0}, size_t{31}, size_t{63}}) {
        observed = {};
        const AdminVerdict verdict = auth.verify(with_digit_changed(good, digit), flush_body);
        CAPTURE(digit);
        CHECK(verdict.outcome == AdminAuthOutcome::bad_signature);
        paths.push_back(observed);
    }
    for (const Observed& path : paths) {
        CHECK(path.calls == 2);       // every configured secret, although the first already failed
        CHECK(path.bytes == 2 * 64);  // whole digests each time
        CHECK(path.equal == 0);
    }
    // The right one: the same calls and bytes as the wrong ones.
    observed = {};
    CHECK(auth.verify(good, flush_body).accepted());
    CHECK(observed.calls == paths.front().calls);
    CHECK(observed.bytes == paths.front().bytes);

    // The comparator itself: equal only when all 32 bytes are.
    AdminDigest a{};
    for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<unsigned char>(i * 7);
    CHECK(admin_digests_equal(a, a));
    for (const size_t at : {size_t{0}, size_t{16}, size_t{31}}) {
        AdminDigest b = a;
        b[at] ^= 0x80;
        CHECK_FALSE(admin_digests_equal(a, b));
    }
}

TEST_CASE("admin signature: secrets shorter than 32 bytes, none, or three are refused without being quoted") {
    const std::string short_secret = "short-secret-0123456789abcdefgh";  // 31 bytes
    REQUIRE(short_secret.size() == admin_min_secret_bytes - 1);
    try {
        AdminAuthenticator refused(options({short_secret}));
        FAIL("a short secret was accepted");
    } catch (const std::invalid_argument& e) {
        CHECK(std::string(e.what()).find("32 bytes") != std::string::npos);
        CHECK(std::string(e.what()).find(short_secret) == std::string::npos);
    }
    CHECK_THROWS_AS(AdminAuthenticator(options({})), std::invalid_argument);
    CHECK_THROWS_AS(AdminAuthenticator(options({current_secret, previous_secret, current_secret + "x"})),
                    std::invalid_argument);
    AdminAuthOptions no_window = options();
    no_window.tolerance = std::chrono::seconds(0);
    CHECK_THROWS_AS(AdminAuthenticator{no_window}, std::invalid_argument);
    CHECK_NOTHROW(AdminAuthenticator(options({std::string(admin_min_secret_bytes, 's')})));
}

TEST_CASE("admin requests: paths and bodies name the action; a body is read back, spaces aside") {
    const AdminAction invalidate{AdminAction::Kind::invalidate, 2};
    const AdminAction flush{AdminAction::Kind::flush, 0};
    CHECK(admin_request_path(invalidate) == "/admin/teams/2/invalidate");
    CHECK(admin_request_path(flush) == "/admin/cache/flush");
    CHECK(admin_request_body(invalidate) == R"({"action":"invalidate","team_id":2})");
    CHECK(admin_request_body(flush) == R"({"action":"flush"})");
    CHECK(admin_request_body(invalidate, "0a1b") == R"({"action":"invalidate","team_id":2,"nonce":"0a1b"})");
    CHECK(admin_request_body(flush, "n-1_x") == R"({"action":"flush","nonce":"n-1_x"})");
    CHECK_THROWS_AS(admin_request_body(flush, "a\"b"), std::invalid_argument);
    CHECK_THROWS_AS(admin_request_body(flush, std::string(65, 'n')), std::invalid_argument);

    const std::optional<AdminAction> read =
        parse_admin_request_body(R"( { "team_id" : 42, "action" : "invalidate" } )");
    REQUIRE(read);
    CHECK(read->kind == AdminAction::Kind::invalidate);
    CHECK(read->team_id == 42);
    REQUIRE(parse_admin_request_body(R"({"action":"flush"})"));
    CHECK(parse_admin_request_body(R"({"action":"flush"})")->kind == AdminAction::Kind::flush);
    // A nonce makes the same action another signature; it changes nothing else.
    const std::optional<AdminAction> with_nonce =
        parse_admin_request_body(R"({"action":"invalidate","team_id":7,"nonce":"9f8e7d6c5b4a3921"})");
    REQUIRE(with_nonce);
    CHECK(with_nonce->team_id == 7);
    CHECK(parse_admin_request_body(R"({"nonce":"x","action":"flush"})"));
    for (const char* wrong :
         {"", "{}", "[]", "null", R"({"action":"drop"})", R"({"action":"invalidate"})",
          R"({"action":"invalidate","team_id":0})", R"({"action":"invalidate","team_id":-2})",
          R"({"action":"invalidate","team_id":"2"})", R"({"action":"invalidate","team_id":2.5})",
          R"({"action":"flush","team_id":2})", R"({"action":"flush","extra":1})", R"({"action":"flush"} x)",
          R"({"action":"flush","action":"flush"})", R"({"action":"flush","nonce":1})",
          R"({"action":"flush","nonce":"a b"})", R"({"action":"flush","nonce":"x","nonce":"y"})"}) {
        CAPTURE(wrong);
        CHECK_FALSE(parse_admin_request_body(wrong));
    }
}
