// warden core: the event semantics of SPEC §1–§6 as pure functions, no I/O.
#pragma once

#include <warden/token_digest.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace warden {

// What an event's token is to the team it resolved to (SPEC §3): a secret verifies, the public
// token does not. A project secret API key verifies when it carries the ingestion scope; one
// without it is refused (insufficient_scope).
enum class Credential { public_token, secret, backup_secret, project_key, project_key_without_scope };
constexpr bool verifies(Credential credential) {
    return credential == Credential::secret || credential == Credential::backup_secret ||
           credential == Credential::project_key;
}
constexpr bool is_project_key(Credential credential) {
    return credential == Credential::project_key || credential == Credential::project_key_without_scope;
}

// A project secret API key of a team (posthog_projectsecretapikey), known by the digest its
// `secure_value` holds ("sha256$" and the hex SHA-256 of the key): the key itself is never stored.
struct ProjectKey {
    TokenDigest digest;
    bool ingestion_scope = false;  // its scopes include the one ingestion requires
};

// A team row as the stores load it (SPEC §1). Its secrets are held as digests (token_digest.hpp).
struct Team {
    int64_t id = 0;
    int64_t project_id = 0;
    std::string name;
    std::string api_token;  // public: shipped in apps, kept as it is
    std::optional<SecretToken> secret_api_token;
    std::optional<SecretToken> secret_api_token_backup;
    bool anonymize_ips = false;
    std::optional<bool> heatmaps_opt_in;
    std::vector<ProjectKey> project_keys;

    // True when `token` is this team's secret, backup secret or scoped project key (null or empty
    // secrets never match), and not also its public token.
    bool is_secret(const TokenDigest& token) const;
    bool is_secret(std::string_view token) const { return is_secret(TokenDigest::of(token)); }

    // Calls f(const TokenDigest&, Credential) for each token the team owns, once per distinct
    // token: the public one, then the secret, then the backup, then its project keys. A secret
    // equal to the public token is the public token (it proves nothing); a backup equal to the
    // secret is the secret; a key equal to any of them is that token.
    template <typename F>
    void for_each_token(F&& f) const {
        const TokenDigest public_digest = TokenDigest::of(api_token);
        if (!api_token.empty()) f(public_digest, Credential::public_token);
        const auto differs = [&](const std::optional<SecretToken>& secret, const TokenDigest& other) {
            return secret && !secret->empty() && !(secret->digest() == other);
        };
        if (differs(secret_api_token, public_digest)) f(secret_api_token->digest(), Credential::secret);
        if (differs(secret_api_token_backup, public_digest) &&
            !(secret_api_token && !secret_api_token->empty() &&
              secret_api_token->digest() == secret_api_token_backup->digest())) {
            f(secret_api_token_backup->digest(), Credential::backup_secret);
        }
        for (const ProjectKey& key : project_keys) {
            const auto is = [&](const std::optional<SecretToken>& secret) {
                return secret && !secret->empty() && secret->digest() == key.digest;
            };
            if (key.digest == public_digest || is(secret_api_token) || is(secret_api_token_backup)) continue;
            f(key.digest, key.ingestion_scope ? Credential::project_key : Credential::project_key_without_scope);
        }
    }
};

// A borrowed header; a null value is represented by std::nullopt.
struct HeaderView {
    std::string_view name;
    std::optional<std::string_view> value;
};

// Owned headers packed in one buffer, so copying a message's headers costs two allocations.
class HeaderList {
public:
    void add(std::string_view name, std::optional<std::string_view> value);
    void reserve(size_t count, size_t bytes);
    size_t size() const { return slots_.size(); }
    bool empty() const { return slots_.empty(); }
    // Inline and unchecked: the sink reads every header of every record through it.
    HeaderView operator[](size_t i) const {
        const Slot& s = slots_[i];
        HeaderView h{std::string_view(bytes_.data() + s.name_offset, s.name_size), std::nullopt};
        if (s.has_value) h.value = std::string_view(bytes_.data() + s.value_offset, s.value_size);
        return h;
    }
    std::vector<HeaderView> views() const;
    void clear();  // keeps the memory
    size_t capacity_bytes() const { return bytes_.capacity() + slots_.capacity() * sizeof(Slot); }

private:
    struct Slot {
        uint32_t name_offset, name_size, value_offset, value_size;
        bool has_value;
    };
    std::string bytes_;
    std::vector<Slot> slots_;
};

// A consumed message, borrowed from its source (Kafka message, file line).
struct MessageView {
    std::string_view topic;
    int32_t partition = 0;
    int64_t offset = 0;
    std::optional<std::string_view> key;
    std::span<const HeaderView> headers;
    std::optional<std::string_view> value;
    // A dead letter sent through again (`warden dlq redrive`): how many times it was dead-lettered
    // so far. A dead letter of it then says one more in `dlq_attempts`. 0 for ordinary input.
    uint32_t dead_letter_attempts = 0;

    // The first header named `name` with a non-empty value (SPEC §2: null or empty means absent).
    std::optional<std::string_view> header(std::string_view name) const;
};

enum class Destination { analytics, error_tracking, heatmaps, dead_letter };
inline constexpr size_t destination_count = 4;

enum class DropCause { no_token, invalid_token, heatmap_opt_in_disabled, quota_limited, insufficient_scope };
inline constexpr size_t drop_cause_count = 5;

// What a quota limits (warden/quota.hpp), by destination: analytics and heatmap outputs are billed
// as events, error tracking as exceptions (its own resource); dead letters are never limited.
enum class QuotaResource { events, exceptions };
inline constexpr size_t quota_resource_count = 2;
std::optional<QuotaResource> billed_as(Destination destination);
std::string_view to_string(QuotaResource);
// A set of resources: bit r for QuotaResource r.
using QuotaFlags = uint8_t;
constexpr QuotaFlags quota_flag(QuotaResource r) { return static_cast<QuotaFlags>(1U << static_cast<unsigned>(r)); }

enum class DeadLetterReason { failed_parse_message, empty_uuid, invalid_uuid, message_too_large };
inline constexpr size_t dead_letter_reason_count = 4;

enum class Verification { none, verified, stripped };

// Where a client's forged `$verified` was found (several may be): an audit detail. `event`: the
// event's top level; `properties`: properties.$verified; `person_properties`: in a `$set`,
// `$set_once` or `$unset`, under properties or at the top level; `shadowed`: in a duplicate or
// disguised copy a first-wins reader would take (a shadowed `data`, say).
enum class StripPlace : uint8_t { event = 1, properties = 2, person_properties = 4, shadowed = 8 };
using StripPlaces = uint8_t;
constexpr StripPlaces strip_place(StripPlace p) { return static_cast<StripPlaces>(p); }

std::string_view to_string(DropCause);
std::string_view to_string(DeadLetterReason);

// Output topic names; defaults follow SPEC §5/§6.
struct TopicNames {
    std::string analytics = "events_analytics";
    std::string error_tracking = "events_error_tracking";
    std::string heatmaps = "events_heatmaps";
    std::string dead_letter = "events_dlq";

    const std::string& name_of(Destination d) const;

    // Adds `per_destination` up by topic name, in destination order: the enriched outputs may
    // share a topic (analytics and error tracking, say), and counts by topic must not repeat one.
    std::vector<std::pair<std::string, uint64_t>> by_topic(const uint64_t (&per_destination)[4]) const;
};

struct CoreLimits {
    // Largest record accepted in or produced out, counted by record_wire_size(); Kafka's default
    // message.max.bytes. At least min_message_bytes, so a dead letter always fits.
    size_t max_message_bytes = 1'000'000;
    static constexpr size_t min_message_bytes = 1024;
    // Deeper JSON is dead-lettered: it bounds the stack used by parsing and rendering.
    unsigned max_json_depth = 64;
    // Values of the common capture shape go through the single-pass renderer; false sends every
    // value through the DOM path (the reference the differential tests compare it with).
    bool single_pass = true;
};

// One message to produce.
struct OutputRecord {
    Destination destination = Destination::analytics;
    std::optional<std::string> key;
    HeaderList headers;
    std::optional<std::string> value;
};

// The bytes a record takes in a Kafka record batch of its own (format v2, uncompressed, every
// varint at its widest): key, value, header names and values, and the framing. This is what a
// broker compares with its message size limit, so a record within it is never refused for size.
size_t record_wire_size(const OutputRecord& record);

// What became of one input message: its outputs are records[first_record, +record_count).
struct MessageOutcome {
    uint32_t first_record = 0;
    uint32_t record_count = 0;
    std::optional<DropCause> drop;
    std::optional<DeadLetterReason> dead_letter;
    Verification verification = Verification::none;
    StripPlaces stripped_from = 0;  // non-zero exactly when verification is `stripped`
    bool secret_redacted = false;
    // The audit trail holds this input's offset until its records are acknowledged (set by the
    // batch processor, honoured by the delivery stage; see warden/audit.hpp).
    bool audit_hold = false;
};

// The outcomes of a batch, in input order, and the records they produce.
struct BatchResult {
    std::vector<OutputRecord> records;
    std::vector<MessageOutcome> outcomes;

    // Appends a record to fill, reusing the memory of one an earlier batch cleared: its key, value
    // and header list keep their capacity, so a steady stream allocates nothing per record. Key
    // and value come back engaged and empty; a writer sets or resets both.
    OutputRecord& add_record();
    // Empties the batch, keeping its records' memory for add_record (within a bound).
    void clear();

private:
    std::vector<OutputRecord> spare_;
    size_t spare_bytes_ = 0;  // the memory spare_ holds
};

// Running totals of outcomes, the figures of the summary and of the metrics.
struct OutcomeCounters {
    uint64_t consumed = 0;
    uint64_t produced[destination_count] = {};
    uint64_t dropped[drop_cause_count] = {};
    uint64_t dead_letters[dead_letter_reason_count] = {};
    uint64_t verified = 0;
    uint64_t stripped = 0;
    uint64_t redacted = 0;

    void add(const BatchResult& batch);
    void add(const OutcomeCounters& other);
    // {"consumed":N,"produced":{topic:n},"dropped":{cause:n},"dlq":{reason:n},"verified":n,"stripped":n}
    std::string summary_json(const TopicNames& topics) const;
};

class ParsedValue;  // a message value parsed in place (core-internal)

// How the token of a message was classified before any store lookup (SPEC §3.1–3.2).
// `unreadable`: no token header and a value that does not parse, so it is dead-lettered.
enum class TokenStatus { missing, invalid, candidate, unreadable };
struct TokenLookup {
    TokenStatus status = TokenStatus::missing;
    std::string token;          // set for `candidate`, and for a personal key (to fingerprint it)
    bool personal_key = false;  // `invalid`: a personal API key (`phx_`)
    // The value, when it was parsed to find the token: processing decodes it from there.
    ParsedValue* parsed = nullptr;
};

// Per-message team resolution handed to the processor.
struct Resolution {
    std::optional<DropCause> drop;                     // no_token / invalid_token
    const Team* team = nullptr;                        // set when drop is empty, except for unreadable messages
    std::string_view token;                            // the credential the event was sent with
    Credential credential = Credential::public_token;  // what `token` is to `team`
    ParsedValue* parsed = nullptr;                     // TokenLookup::parsed
    QuotaFlags quota_limited = 0;                      // the resources the team is over its quota for
    bool personal_key = false;                         // invalid_token: a personal API key (`phx_`), `token` holds it
    bool token_shared = false;                         // invalid_token: the token is owned by two teams

    // Whether an event routed to `destination` is dropped as quota_limited.
    bool over_quota(Destination destination) const {
        const std::optional<QuotaResource> billed = billed_as(destination);
        return billed && (quota_limited & quota_flag(*billed)) != 0;
    }
};

// The stages of one message, in order (src/core): token classification, then (outside the
// core) team resolution, then decoding, verification, routing, rendering with redaction, and
// the message's outputs. Holds reusable memory, so keep one per thread and reuse it.
class EventProcessor {
public:
    explicit EventProcessor(TopicNames topics = {}, CoreLimits limits = {});
    ~EventProcessor();
    EventProcessor(const EventProcessor&) = delete;
    EventProcessor& operator=(const EventProcessor&) = delete;

    // Starts a batch: the values that find_token parsed for the previous one are released.
    void start_batch();

    // Finds and checks the message's token: the `token` header, else the value's `token` field.
    // A value parsed for it is kept (TokenLookup::parsed) until the next start_batch().
    TokenLookup find_token(const MessageView& message);

    // Appends the message's outcome (and records) to `out`. `now_ms` stamps dead letters.
    void process(const MessageView& message, const Resolution& resolution, int64_t now_ms, BatchResult& out);

    const TopicNames& topics() const { return topics_; }

private:
    struct Workspace;
    TopicNames topics_;
    CoreLimits limits_;
    std::unique_ptr<Workspace> workspace_;
};

}  // namespace warden
