// audit: the security audit trail. Metrics count security-relevant outcomes; the trail says who,
// when and where: occurrences are aggregated per (team, kind) over an interval into JSON records
// for the audit topic, so an attack cannot amplify into an equal volume of audit records. A record
// names a token only by its fingerprint (a keyed hash prefix) and carries no payload.
#pragma once

#include <warden/core.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace warden {

inline constexpr std::string_view default_audit_topic = "events_security_audit";

enum class AuditKind : uint8_t {
    forged_verified_stripped,     // a client's `$verified` removed (with where it was found)
    verified_with_backup_secret,  // sent with the backup secret: a rotation is in progress
    unknown_secret_token,         // a `phs_`-shaped token no team owns (unknown or revoked)
    personal_key_as_token,        // a personal API key (`phx_`) presented as an ingestion token
    token_owned_by_two_teams,     // refused: resolving it could verify the wrong team
    secret_redacted,              // a secret removed from an output
    quota_limited,                // dropped: the team is over its quota
    insufficient_scope,           // refused: a project secret API key without the ingestion scope
    admin_request,                // a signed admin request acted on (an invalidation, a flush)
    admin_request_refused,        // an admin request refused (unsigned, stale, replayed, malformed)
};
inline constexpr size_t audit_kind_count = 10;
std::string_view to_string(AuditKind);
// Per-kind totals, indexed by AuditKind.
using AuditCounts = std::array<uint64_t, audit_kind_count>;

// The key token fingerprints are made with: HMAC-SHA256, of which a record shows the first 64
// bits. Without the key, a fingerprint neither reveals a token nor confirms a guessed one.
class FingerprintKey {
public:
    static constexpr size_t min_secret_bytes = 16;

    // A key of its own for this process: fingerprints compare within it only.
    static FingerprintKey random();
    // The operator's key (shared by a fleet, so fingerprints compare across workers and restarts).
    // Throws std::invalid_argument, naming `origin`, when shorter than min_secret_bytes.
    static FingerprintKey from_secret(std::string_view secret, std::string_view origin);

    // 16 lowercase hex digits.
    std::string fingerprint(std::string_view token) const;
    // Which key made a fingerprint (8 hex digits of a hash of the key): fingerprints with the same
    // id compare.
    const std::string& id() const { return id_; }

private:
    explicit FingerprintKey(std::string secret);
    std::string secret_;
    std::string id_;
};

// A call to the admin endpoints, as the ops server hands it to the audit trail.
struct AdminAuditEntry {
    bool accepted = false;
    std::string action;                 // "invalidate" or "flush"
    std::optional<int64_t> team;        // the team an accepted invalidation names
    std::string result;                 // "ok", or why it was refused
    std::string peer;                   // the address the (first) request came from
    int64_t first_ms = 0, last_ms = 0;  // epoch milliseconds
    uint64_t count = 1;                 // refused calls of one result, counted together
};

// Admin calls on their way from the ops server's thread to a worker's audit trail. Accepted calls
// wait in a bounded queue, and only while the worker that records them is taking them (between
// open() and close()): otherwise the endpoint must not act on them. Refused calls are counted per
// action and result, so that a flood of them neither fills the queue nor turns into records.
class AdminAuditInbox {
public:
    static constexpr size_t capacity = 4096;

    void open();
    void close();
    // False when closed or full: the call must then not be acted on.
    bool post_accepted(AdminAuditEntry entry);
    void post_refused(const AdminAuditEntry& entry);
    // The accepted calls in order, then one entry per (action, result) of the refused ones.
    std::vector<AdminAuditEntry> take();

private:
    std::mutex mutex_;
    bool open_ = false;
    std::vector<AdminAuditEntry> accepted_;
    std::map<std::pair<std::string, std::string>, AdminAuditEntry> refused_;
};

struct AuditOptions {
    std::chrono::milliseconds interval{10'000};  // how long an aggregate collects occurrences
    size_t max_aggregates = 10'000;              // beyond: further teams' occurrences fold into team-less ones
};

// Aggregates the security-relevant occurrences of the messages it observes, and renders them as
// records when an interval ends. Not thread-safe: one per worker (or `process` lane).
class AuditTrail {
public:
    using Clock = std::chrono::steady_clock;

    using Options = AuditOptions;

    explicit AuditTrail(FingerprintKey key, Options options = {});

    // Records the occurrences the message's resolution and outcome show (none for most). True when
    // it is the interval's first occurrence from the message's partition: the delivery stage then
    // holds that offset until the interval's records are acknowledged, and with it every later
    // offset of the partition.
    bool observe(const MessageView& message, const Resolution& resolution, const MessageOutcome& outcome,
                 int64_t now_ms, Clock::time_point now = Clock::now());

    // An admin call (or refused calls counted together): accepted ones per team, never folded
    // into team-less ones (only a holder of the signing secret makes them); refused ones all in one
    // team-less aggregate per interval (their path's team id is the sender's choice), counted by
    // result. The first call's action, result and address are the sample. Holds no offset, and
    // survives discard().
    void record_admin(const AdminAuditEntry& entry, Clock::time_point now = Clock::now());

    // Whether the open interval holds occurrences and has lasted its time.
    bool due(Clock::time_point now = Clock::now()) const;
    bool empty() const { return aggregates_.empty(); }

    // The open interval's records, one per (team, kind) in team then kind order, and a new interval.
    std::vector<OutputRecord> take_records();
    // Forgets the open interval's occurrences in messages: its inputs are processed again (an
    // aborted transaction). Admin calls are kept for the next records.
    void discard();
    // Adds another trail's open interval to this one's and empties it (`process` lanes): counts add
    // up, times widen, the earliest sample stays.
    void merge_from(AuditTrail& other);

    // Occurrences observed since the start, by kind (the metrics'), and records taken.
    const AuditCounts& occurrences() const { return occurrences_; }
    uint64_t records_taken() const { return records_taken_; }

private:
    struct Aggregate {
        uint64_t count = 0;
        int64_t first_ms = 0, last_ms = 0;
        std::string sample_topic;
        int32_t sample_partition = 0;
        int64_t sample_offset = 0;
        std::string token_fingerprint;  // of the sample's token; empty without one
        StripPlaces found_in = 0;
        AdminAuditEntry admin_sample;                   // admin kinds: the first call's action, result and peer
        std::map<std::string, uint64_t> admin_results;  // admin_request_refused: calls by result
    };
    // (team id or none, kind): std::nullopt sorts first.
    using Key = std::pair<std::optional<int64_t>, AuditKind>;

    void add(AuditKind kind, std::optional<int64_t> team, const MessageView& message, std::string_view token,
             StripPlaces found_in, int64_t now_ms);

    FingerprintKey key_;
    Options options_;
    std::map<Key, Aggregate> aggregates_;
    std::vector<int32_t> held_partitions_;  // those with an occurrence in the open interval
    Clock::time_point opened_{};
    AuditCounts occurrences_{};
    uint64_t records_taken_ = 0;
};

// The kinds a message's resolution and outcome show, as bits (1 << AuditKind).
uint8_t audit_kinds(const Resolution& resolution, const MessageOutcome& outcome);

}  // namespace warden
