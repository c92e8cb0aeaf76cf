// Signatures of admin requests (HMAC-SHA256 of "<t>.<body>"), their verification with a window
// and a replay memory, and the bodies that name what a request asks for.
#include <warden/admin.hpp>
#include <warden/token_digest.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <stdexcept>

namespace warden {
namespace {

constexpr std::string_view header_form = "X-Warden-Signature must read t=<unix seconds>,v1=<64 hex digits>";
// More digits than this would not fit an int64_t; no plausible clock needs them.
constexpr size_t max_t_digits = 18;

AdminDigest hmac_sha256(std::string_view secret, int64_t unix_seconds, std::string_view body) {
    const std::string text = std::to_string(unix_seconds) + "." + std::string(body);
    AdminDigest digest{};
    unsigned int size = 0;
    if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
             reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest.data(), &size) == nullptr ||
        size != digest.size()) {
        throw std::runtime_error("HMAC-SHA256 failed");
    }
    return digest;
}

bool all_digits(std::string_view text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

struct SignatureHeader {
    int64_t unix_seconds = 0;
    AdminDigest digest{};
};

// "t=<digits>,v1=<64 hex digits>" exactly; nothing, and `problem` said, otherwise. The digest it
// carries is the sender's, no secret: decoding it may take whatever time it takes.
std::optional<SignatureHeader> parse_header(std::string_view header, std::string& problem) {
    const size_t comma = header.find(',');
    if (!header.starts_with("t=") || comma == std::string_view::npos || !header.substr(comma + 1).starts_with("v1=")) {
        problem = header_form;
        return std::nullopt;
    }
    const std::string_view t = header.substr(2, comma - 2);
    const std::string_view v1 = header.substr(comma + 4);
    if (!all_digits(t) || t.size() > max_t_digits) {
        problem = "t is not a whole number of seconds since the epoch; " + std::string(header_form);
        return std::nullopt;
    }
    SignatureHeader parsed;
    parsed.unix_seconds = std::stoll(std::string(t));
    if (v1.size() != parsed.digest.size() * 2) {
        problem = "v1 is not 64 hex digits (an HMAC-SHA256); " + std::string(header_form);
        return std::nullopt;
    }
    for (size_t i = 0; i < parsed.digest.size(); ++i) {
        const int high = hex_digit(v1[2 * i]);
        const int low = hex_digit(v1[2 * i + 1]);
        if (high < 0 || low < 0) {
            problem = "v1 is not 64 hex digits (an HMAC-SHA256); " + std::string(header_form);
            return std::nullopt;
        }
        parsed.digest[i] = static_cast<unsigned char>(high * 16 + low);
    }
    return parsed;
}

// Letters, digits, '-' and '_', 64 at most: written into JSON as it is.
bool nonce_is_plain(std::string_view nonce) {
    return nonce.size() <= max_admin_nonce_bytes && std::all_of(nonce.begin(), nonce.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
                      c == '_';
           });
}

int64_t system_unix_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

std::string sign_admin_request(std::string_view secret, int64_t unix_seconds, std::string_view body) {
    return "t=" + std::to_string(unix_seconds) + ",v1=" + to_hex(hmac_sha256(secret, unix_seconds, body));
}

bool admin_digests_equal(const AdminDigest& a, const AdminDigest& b) {
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string_view to_string(AdminAction::Kind kind) {
    return kind == AdminAction::Kind::invalidate ? "invalidate" : "flush";
}

std::string admin_request_path(const AdminAction& action) {
    if (action.kind == AdminAction::Kind::flush) return "/admin/cache/flush";
    return "/admin/teams/" + std::to_string(action.team_id) + "/invalidate";
}

std::string admin_request_body(const AdminAction& action, std::string_view nonce) {
    if (!nonce_is_plain(nonce)) throw std::invalid_argument("an admin request's nonce takes letters, digits, - and _");
    std::string body = R"({"action":")" + std::string(to_string(action.kind)) + "\"";
    if (action.kind == AdminAction::Kind::invalidate) body += R"(,"team_id":)" + std::to_string(action.team_id);
    if (!nonce.empty()) body += R"(,"nonce":")" + std::string(nonce) + "\"";
    return body + "}";
}

std::optional<AdminAction> parse_admin_request_body(std::string_view body) {
    rapidjson::Document document;
    document.Parse(body.data(), body.size());
    if (document.HasParseError() || !document.IsObject()) return std::nullopt;
    const auto action = document.FindMember("action");
    if (action == document.MemberEnd() || !action->value.IsString()) return std::nullopt;
    const std::string_view name(action->value.GetString(), action->value.GetStringLength());
    AdminAction read;
    size_t expected_members = 1;
    if (const auto nonce = document.FindMember("nonce"); nonce != document.MemberEnd()) {
        if (!nonce->value.IsString() ||
            !nonce_is_plain(std::string_view(nonce->value.GetString(), nonce->value.GetStringLength()))) {
            return std::nullopt;
        }
        ++expected_members;
    }
    if (name == "invalidate") {
        const auto team = document.FindMember("team_id");
        if (team == document.MemberEnd() || !team->value.IsInt64() || team->value.GetInt64() <= 0) return std::nullopt;
        read = {AdminAction::Kind::invalidate, team->value.GetInt64()};
        ++expected_members;
    } else if (name != "flush") {
        return std::nullopt;
    }
    // Nothing else, and no name twice: what was signed says one thing only.
    if (document.MemberCount() != expected_members) return std::nullopt;
    return read;
}

std::string_view to_string(AdminAuthOutcome outcome) {
    switch (outcome) {
        case AdminAuthOutcome::accepted: return "accepted";
        case AdminAuthOutcome::missing_header: return "missing_header";
        case AdminAuthOutcome::malformed_header: return "malformed_header";
        case AdminAuthOutcome::stale_timestamp: return "stale_timestamp";
        case AdminAuthOutcome::bad_signature: return "bad_signature";
        case AdminAuthOutcome::replayed: return "replayed";
        case AdminAuthOutcome::replay_memory_full: return "replay_memory_full";
    }
    return "unknown";
}

AdminAuthenticator::AdminAuthenticator(AdminAuthOptions options, UnixClock clock, DigestComparator compare)
    : options_(std::move(options)),
      clock_(clock ? std::move(clock) : UnixClock(system_unix_seconds)),
      compare_(compare ? std::move(compare) : DigestComparator(admin_digests_equal)) {
    if (options_.secrets.empty()) throw std::invalid_argument("the admin endpoints need a signing secret");
    if (options_.secrets.size() > 2) {
        throw std::invalid_argument(
            "the admin endpoints take two signing secrets at most: the current and the previous");
    }
    for (const std::string& secret : options_.secrets) {
        if (secret.size() < admin_min_secret_bytes) {
            throw std::invalid_argument("an admin signing secret must hold at least " +
                                        std::to_string(admin_min_secret_bytes) + " bytes");
        }
    }
    if (options_.tolerance.count() <= 0)
        throw std::invalid_argument("the admin signature tolerance must be 1 s or more");
    if (options_.max_remembered == 0) throw std::invalid_argument("the admin replay memory must hold a signature");
}

AdminVerdict AdminAuthenticator::verify(std::optional<std::string_view> header, std::string_view body) {
    const int64_t now = clock_();
    {
        const std::lock_guard lock(mutex_);
        forget_expired(now);
    }
    if (!header) return {AdminAuthOutcome::missing_header, "missing header: " + std::string(header_form)};
    std::string problem;
    const std::optional<SignatureHeader> signature = parse_header(*header, problem);
    if (!signature) return {AdminAuthOutcome::malformed_header, "malformed header: " + problem};

    const int64_t tolerance = options_.tolerance.count();
    const int64_t skew = signature->unix_seconds - now;  // t has 18 digits at most: no overflow
    if (skew < -tolerance || skew > tolerance) {
        const std::string off = skew < 0 ? std::to_string(-skew) + " s in the past" : std::to_string(skew) + " s ahead";
        return {AdminAuthOutcome::stale_timestamp, "stale timestamp: t is " + off + " of this server's clock; " +
                                                       "the tolerance is " + std::to_string(tolerance) +
                                                       " s either way (sign with the current time)"};
    }

    // Every secret's digest is compared in full, whichever matches and wherever a forged one
    // differs: the time taken tells an attacker nothing about how close a guess came.
    bool matched = false;
    size_t secret_index = 0;
    for (size_t i = 0; i < options_.secrets.size(); ++i) {
        const bool equal = compare_(hmac_sha256(options_.secrets[i], signature->unix_seconds, body), signature->digest);
        if (equal && !matched) secret_index = i;
        matched = matched || equal;
    }
    if (!matched) {
        return {AdminAuthOutcome::bad_signature,
                "bad signature: v1 is not the HMAC-SHA256 of \"<t>.<body>\" under a configured secret"};
    }

    const std::lock_guard lock(mutex_);
    if (accepted_.contains(signature->digest)) {
        return {AdminAuthOutcome::replayed, "replayed: this signature was accepted before; sign each request anew"};
    }
    if (accepted_.size() >= options_.max_remembered) {
        // Forgetting one instead would let it be replayed.
        return {AdminAuthOutcome::replay_memory_full,
                "too many admin requests within the tolerance window to remember another; try again later"};
    }
    accepted_.insert(signature->digest);
    expiring_.emplace(signature->unix_seconds + tolerance, signature->digest);
    return {AdminAuthOutcome::accepted, "", secret_index};
}

size_t AdminAuthenticator::remembered() const {
    const std::lock_guard lock(mutex_);
    return accepted_.size();
}

void AdminAuthenticator::forget_expired(int64_t now) {
    // A signature whose t is more than the tolerance ago is refused as stale: no need to keep it.
    while (!expiring_.empty() && expiring_.begin()->first < now) {
        accepted_.erase(expiring_.begin()->second);
        expiring_.erase(expiring_.begin());
    }
}

}  // namespace warden
