// admin: the signed admin requests of the ops server, for setups where the team store cannot tell
// the workers about changes (PostgreSQL LISTEN behind a transaction-pooling proxy): an operator
// has the team caches forget one team, or everything. Requests are signed like webhooks:
//   X-Warden-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">
// and the body names the action, so a signature is good for one action, once, for a few minutes.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace warden {

inline constexpr std::string_view admin_signature_header = "X-Warden-Signature";
// A signing secret at least this long: HMAC-SHA256's full strength wants 256 bits of key.
inline constexpr size_t admin_min_secret_bytes = 32;
inline constexpr std::chrono::seconds default_admin_signature_tolerance{300};

// The value of X-Warden-Signature for `body` sent at `unix_seconds`.
std::string sign_admin_request(std::string_view secret, int64_t unix_seconds, std::string_view body);

// What an admin request asks for.
struct AdminAction {
    enum class Kind { invalidate, flush };
    Kind kind = Kind::flush;
    int64_t team_id = 0;  // invalidate: the team whose cached keys go
};
std::string_view to_string(AdminAction::Kind kind);  // "invalidate", "flush"
// POST /admin/teams/{id}/invalidate or POST /admin/cache/flush.
std::string admin_request_path(const AdminAction& action);
// {"action":"invalidate","team_id":2} or {"action":"flush"}: what is signed. A `nonce` (up to 64
// letters, digits, '-' or '_') is added as "nonce": the same action twice within a second is then
// two signatures, not a replay.
std::string admin_request_body(const AdminAction& action, std::string_view nonce = {});
inline constexpr size_t max_admin_nonce_bytes = 64;
// What a signed body asks for; nothing when it is not one of the bodies above (spaces aside).
std::optional<AdminAction> parse_admin_request_body(std::string_view body);

using AdminDigest = std::array<unsigned char, 32>;  // an HMAC-SHA256

// Whether two digests are equal, in time independent of where they differ (CRYPTO_memcmp over
// all 32 bytes).
bool admin_digests_equal(const AdminDigest& a, const AdminDigest& b);

enum class AdminAuthOutcome {
    accepted,
    missing_header,
    malformed_header,
    stale_timestamp,     // t further from now than the tolerance, in either direction
    bad_signature,       // no configured secret signed this body at this t
    replayed,            // accepted before, still within the window
    replay_memory_full,  // too many accepted within the window to remember another: refused
};
inline constexpr size_t admin_auth_outcome_count = 7;
std::string_view to_string(AdminAuthOutcome outcome);  // "accepted", "missing_header", …

struct AdminVerdict {
    AdminAuthOutcome outcome = AdminAuthOutcome::missing_header;
    std::string reason;       // for the caller and the log: what failed, never the signature or a secret
    size_t secret_index = 0;  // accepted: which secret signed (0 current, 1 previous)
    bool accepted() const { return outcome == AdminAuthOutcome::accepted; }
};

struct AdminAuthOptions {
    // The current secret first, then the previous one while a rotation is under way.
    std::vector<std::string> secrets;
    std::chrono::seconds tolerance = default_admin_signature_tolerance;
    // Accepted signatures remembered at most (each until it leaves the window); when full, new
    // requests are refused until some leave, rather than forgetting one that could be replayed.
    size_t max_remembered = 10'000;
};

// Verifies X-Warden-Signature headers. Thread-safe.
class AdminAuthenticator {
public:
    using UnixClock = std::function<int64_t()>;  // seconds since the epoch
    // How digests are compared (tests observe it); admin_digests_equal by default.
    using DigestComparator = std::function<bool(const AdminDigest&, const AdminDigest&)>;

    // Throws std::invalid_argument (never quoting a secret) without a secret, with more than two,
    // one shorter than admin_min_secret_bytes, or a tolerance or memory of zero.
    explicit AdminAuthenticator(AdminAuthOptions options, UnixClock clock = nullptr,
                                DigestComparator compare = nullptr);

    // `header`: the X-Warden-Signature value, nothing when the request had none. A malformed
    // header is refused before any digest is compared; otherwise every secret's digest is
    // compared in full, whichever matches. An accepted signature is remembered: it is refused as
    // replayed until its t leaves the window.
    AdminVerdict verify(std::optional<std::string_view> header, std::string_view body);

    size_t remembered() const;

private:
    void forget_expired(int64_t now);

    AdminAuthOptions options_;
    UnixClock clock_;
    DigestComparator compare_;
    mutable std::mutex mutex_;
    std::set<AdminDigest> accepted_;                // the digests remembered
    std::multimap<int64_t, AdminDigest> expiring_;  // the same, by when they leave the window
};

// The answer of the ops server to an admin request.
struct AdminAnswer {
    int status = 0;
    std::string body;
};

// Sends `action` to the ops server at `address` (host:port or [IPv6]:port) as a POST signed with
// `secret` at the current time, over plain HTTP, and waits for the answer. Throws
// std::runtime_error, naming the address, when there is none within `timeout`.
AdminAnswer send_admin_request(const std::string& address, const AdminAction& action, std::string_view secret,
                               std::chrono::milliseconds timeout);

}  // namespace warden
