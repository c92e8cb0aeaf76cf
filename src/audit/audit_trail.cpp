#include <warden/audit.hpp>
#include <warden/token_digest.hpp>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <ctime>
#include <stdexcept>
#include <utility>

namespace warden {
namespace {

constexpr std::string_view kind_names[audit_kind_count] = {
    "forged_verified_stripped",
    "verified_with_backup_secret",
    "unknown_secret_token",
    "personal_key_as_token",
    "token_owned_by_two_teams",
    "secret_redacted",
    "quota_limited",
    "insufficient_scope",
    "admin_request",
    "admin_request_refused",
};

constexpr bool is_admin(AuditKind kind) {
    return kind == AuditKind::admin_request || kind == AuditKind::admin_request_refused;
}

constexpr uint8_t bit(AuditKind kind) { return static_cast<uint8_t>(1U << static_cast<unsigned>(kind)); }

// 2026-12-04T11:20:00.123Z
std::string utc_text(int64_t ms) {
    const auto seconds = static_cast<std::time_t>(ms / 1000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[40];
    const size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
    std::snprintf(text + n, sizeof text - n, ".%03dZ", static_cast<int>(ms % 1000));
    return text;
}

void write_places(rapidjson::Writer<rapidjson::StringBuffer>& w, StripPlaces places) {
    static constexpr std::pair<StripPlace, std::string_view> names[] = {
        {StripPlace::event, "event"},
        {StripPlace::properties, "properties"},
        {StripPlace::person_properties, "person_properties"},
        {StripPlace::shadowed, "shadowed"},
    };
    w.Key("found_in");
    w.StartArray();
    for (const auto& [place, name] : names) {
        if (places & strip_place(place)) w.String(name.data(), static_cast<rapidjson::SizeType>(name.size()));
    }
    w.EndArray();
}

// The first admin call of an aggregate: what it asked, how it ended, where it came from.
void write_admin_request(rapidjson::Writer<rapidjson::StringBuffer>& w, const AdminAuditEntry& call) {
    w.Key("request");
    w.StartObject();
    for (const auto& [name, value] :
         {std::pair{"action", &call.action}, std::pair{"result", &call.result}, std::pair{"peer", &call.peer}}) {
        w.Key(name);
        w.String(value->data(), static_cast<rapidjson::SizeType>(value->size()));
    }
    w.EndObject();
}

}  // namespace

std::string_view to_string(AuditKind kind) { return kind_names[static_cast<size_t>(kind)]; }

// ---- FingerprintKey ----

FingerprintKey::FingerprintKey(std::string secret) : secret_(std::move(secret)) {
    // The id hashes the key under a label of its own, so it is not a fingerprint of anything.
    std::string labelled = "warden audit key id:" + secret_;
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(labelled.data()), labelled.size(), digest);
    id_ = to_hex({digest, 4});
}

FingerprintKey FingerprintKey::random() {
    unsigned char bytes[32];
    if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("no random bytes for the audit fingerprint key");
    return FingerprintKey(std::string(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

FingerprintKey FingerprintKey::from_secret(std::string_view secret, std::string_view origin) {
    if (secret.size() < min_secret_bytes) {
        throw std::invalid_argument(std::string(origin) + ": the audit fingerprint key must hold at least " +
                                    std::to_string(min_secret_bytes) + " bytes");
    }
    return FingerprintKey(std::string(secret));
}

std::string FingerprintKey::fingerprint(std::string_view token) const {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
         reinterpret_cast<const unsigned char*>(token.data()), token.size(), mac, &size);
    return to_hex({mac, std::min<size_t>(size, 8)});
}

// ---- which occurrences a message shows ----

uint8_t audit_kinds(const Resolution& r, const MessageOutcome& outcome) {
    uint8_t kinds = 0;
    if (outcome.verification == Verification::stripped) kinds |= bit(AuditKind::forged_verified_stripped);
    if (outcome.verification == Verification::verified && r.credential == Credential::backup_secret) {
        kinds |= bit(AuditKind::verified_with_backup_secret);
    }
    if (outcome.drop == DropCause::invalid_token) {
        if (r.personal_key) {
            kinds |= bit(AuditKind::personal_key_as_token);
        } else if (r.token_shared) {
            kinds |= bit(AuditKind::token_owned_by_two_teams);
        } else if (r.token.starts_with("phs_")) {
            kinds |= bit(AuditKind::unknown_secret_token);
        }
    }
    if (outcome.secret_redacted) kinds |= bit(AuditKind::secret_redacted);
    if (outcome.drop == DropCause::quota_limited) kinds |= bit(AuditKind::quota_limited);
    if (outcome.drop == DropCause::insufficient_scope) kinds |= bit(AuditKind::insufficient_scope);
    return kinds;
}

// ---- AdminAuditInbox ----

void AdminAuditInbox::open() {
    const std::lock_guard lock(mutex_);
    open_ = true;
}

void AdminAuditInbox::close() {
    const std::lock_guard lock(mutex_);
    open_ = false;
}

bool AdminAuditInbox::post_accepted(AdminAuditEntry entry) {
    const std::lock_guard lock(mutex_);
    if (!open_ || accepted_.size() >= capacity) return false;
    accepted_.push_back(std::move(entry));
    return true;
}

void AdminAuditInbox::post_refused(const AdminAuditEntry& entry) {
    const std::lock_guard lock(mutex_);
    auto [it, fresh] = refused_.try_emplace({entry.action, entry.result}, entry);
    if (fresh) return;
    AdminAuditEntry& counted = it->second;
    counted.count += entry.count;
    counted.first_ms = std::min(counted.first_ms, entry.first_ms);
    counted.last_ms = std::max(counted.last_ms, entry.last_ms);
}

std::vector<AdminAuditEntry> AdminAuditInbox::take() {
    const std::lock_guard lock(mutex_);
    std::vector<AdminAuditEntry> taken = std::exchange(accepted_, {});
    for (auto& [key, counted] : refused_) taken.push_back(std::move(counted));
    refused_.clear();
    return taken;
}

// ---- AuditTrail ----

AuditTrail::AuditTrail(FingerprintKey key, Options options) : key_(std::move(key)), options_(options) {}

bool AuditTrail::observe(const MessageView& message, const Resolution& resolution, const MessageOutcome& outcome,
                         int64_t now_ms, Clock::time_point now) {
    const uint8_t kinds = audit_kinds(resolution, outcome);
    if (!kinds) return false;
    if (aggregates_.empty()) opened_ = now;
    const std::optional<int64_t> team = resolution.team ? std::optional(resolution.team->id) : std::nullopt;
    for (size_t k = 0; k < audit_kind_count; ++k) {
        if (!(kinds & (1U << k))) continue;
        const auto kind = static_cast<AuditKind>(k);
        add(kind, team, message, resolution.token,
            kind == AuditKind::forged_verified_stripped ? outcome.stripped_from : 0, now_ms);
    }
    if (std::find(held_partitions_.begin(), held_partitions_.end(), message.partition) != held_partitions_.end())
        return false;
    held_partitions_.push_back(message.partition);
    return true;
}

void AuditTrail::add(AuditKind kind, std::optional<int64_t> team, const MessageView& message, std::string_view token,
                     StripPlaces found_in, int64_t now_ms) {
    ++occurrences_[static_cast<size_t>(kind)];
    Key key{team, kind};
    auto it = aggregates_.find(key);
    if (it == aggregates_.end()) {
        // Past the bound (teams enough to matter), a team's occurrences count without its id.
        if (team && aggregates_.size() >= options_.max_aggregates) {
            key.first.reset();
            it = aggregates_.find(key);
        }
        if (it == aggregates_.end()) {
            Aggregate fresh;
            fresh.first_ms = now_ms;
            fresh.sample_topic = message.topic;
            fresh.sample_partition = message.partition;
            fresh.sample_offset = message.offset;
            if (!token.empty()) fresh.token_fingerprint = key_.fingerprint(token);
            it = aggregates_.emplace(key, std::move(fresh)).first;
        }
    }
    Aggregate& a = it->second;
    ++a.count;
    a.first_ms = std::min(a.first_ms, now_ms);
    a.last_ms = std::max(a.last_ms, now_ms);
    a.found_in |= found_in;
}

void AuditTrail::record_admin(const AdminAuditEntry& entry, Clock::time_point now) {
    const AuditKind kind = entry.accepted ? AuditKind::admin_request : AuditKind::admin_request_refused;
    if (aggregates_.empty()) opened_ = now;
    occurrences_[static_cast<size_t>(kind)] += entry.count;
    const Key key{entry.accepted ? entry.team : std::nullopt, kind};
    auto [it, fresh] = aggregates_.try_emplace(key);
    Aggregate& a = it->second;
    if (fresh) {
        a.first_ms = entry.first_ms;
        a.admin_sample = entry;
    }
    a.count += entry.count;
    a.first_ms = std::min(a.first_ms, entry.first_ms);
    a.last_ms = std::max(a.last_ms, entry.last_ms);
    if (!entry.accepted) a.admin_results[entry.result] += entry.count;
}

bool AuditTrail::due(Clock::time_point now) const { return !aggregates_.empty() && now - opened_ >= options_.interval; }

std::vector<OutputRecord> AuditTrail::take_records() {
    std::vector<OutputRecord> records;
    records.reserve(aggregates_.size());
    for (const auto& [key, a] : aggregates_) {
        const auto& [team, kind] = key;
        rapidjson::StringBuffer text;
        rapidjson::Writer<rapidjson::StringBuffer> w(text);
        w.StartObject();
        w.Key("kind");
        const std::string_view name = to_string(kind);
        w.String(name.data(), static_cast<rapidjson::SizeType>(name.size()));
        w.Key("team_id");
        if (team) {
            w.Int64(*team);
        } else {
            w.Null();
        }
        w.Key("count");
        w.Uint64(a.count);
        w.Key("first_seen");
        w.String(utc_text(a.first_ms).c_str());
        w.Key("last_seen");
        w.String(utc_text(a.last_ms).c_str());
        if (is_admin(kind)) {
            write_admin_request(w, a.admin_sample);
            if (kind == AuditKind::admin_request_refused) {
                w.Key("results");
                w.StartObject();
                for (const auto& [result, count] : a.admin_results) {
                    w.Key(result.c_str(), static_cast<rapidjson::SizeType>(result.size()));
                    w.Uint64(count);
                }
                w.EndObject();
            }
        } else {
            w.Key("sample");
            w.StartObject();
            w.Key("topic");
            w.String(a.sample_topic.c_str(), static_cast<rapidjson::SizeType>(a.sample_topic.size()));
            w.Key("partition");
            w.Int(a.sample_partition);
            w.Key("offset");
            w.Int64(a.sample_offset);
            w.EndObject();
        }
        w.Key("token_fingerprint");
        if (a.token_fingerprint.empty()) {
            w.Null();
        } else {
            w.String(a.token_fingerprint.c_str());
        }
        w.Key("fingerprint_key_id");
        w.String(key_.id().c_str());
        if (kind == AuditKind::forged_verified_stripped) write_places(w, a.found_in);
        w.EndObject();

        OutputRecord& record = records.emplace_back();
        if (team) record.key = std::to_string(*team);
        record.headers.add("audit_kind", name);
        record.value.emplace(text.GetString(), text.GetSize());
    }
    records_taken_ += records.size();
    aggregates_.clear();
    held_partitions_.clear();
    return records;
}

void AuditTrail::discard() {
    std::erase_if(aggregates_, [](const auto& aggregate) { return !is_admin(aggregate.first.second); });
    held_partitions_.clear();
}

void AuditTrail::merge_from(AuditTrail& other) {
    for (auto& [key, theirs] : other.aggregates_) {
        auto [it, fresh] = aggregates_.try_emplace(key, theirs);
        if (fresh) continue;
        Aggregate& ours = it->second;
        const bool earlier = std::pair(theirs.sample_partition, theirs.sample_offset) <
                             std::pair(ours.sample_partition, ours.sample_offset);
        if (earlier) {
            ours.sample_topic = theirs.sample_topic;
            ours.sample_partition = theirs.sample_partition;
            ours.sample_offset = theirs.sample_offset;
            ours.token_fingerprint = theirs.token_fingerprint;
        }
        ours.count += theirs.count;
        ours.first_ms = std::min(ours.first_ms, theirs.first_ms);
        ours.last_ms = std::max(ours.last_ms, theirs.last_ms);
        ours.found_in |= theirs.found_in;
        for (const auto& [result, count] : theirs.admin_results) ours.admin_results[result] += count;
    }
    for (size_t k = 0; k < audit_kind_count; ++k) occurrences_[k] += other.occurrences_[k];
    other.occurrences_ = {};
    other.aggregates_.clear();
    other.held_partitions_.clear();
}

}  // namespace warden
