// The security audit trail: which outcomes it records, how it aggregates them (per team and kind per
// interval, so an attack cannot amplify into audit volume), and what a record may never hold.
#include "support.hpp"

#include <warden/audit.hpp>
#include <warden/quota.hpp>

#include <map>
#include <set>
#include <tuple>

using namespace warden;
using test::Harness;

namespace {

// The test teams, and two more whose secrets are (wrongly) one token.
const std::string teams_with_shared_token =
    std::string(test::teams_json).substr(0, std::string(test::teams_json).rfind(']')) +
    R"(, {"id":5,"project_id":50,"name":"Five","api_token":"phc_five",
  "secret_api_token":"phs_shared_token_55"},
 {"id":6,"project_id":60,"name":"Six","api_token":"phc_six","secret_api_token":"phs_six_secret_66",
  "secret_api_token_backup":"phs_shared_token_55"}])";

const std::string pageview = R"({"event":"$pageview","distinct_id":"u","properties":{"$current_url":"/"}})";
const std::string forged =
    R"({"event":"$pageview","distinct_id":"u","properties":{"$verified":true,"$set":{"$verified":1}}})";

FingerprintKey test_key() { return FingerprintKey::from_secret("0123456789abcdef-test-key", "test"); }

// A team and the resolution of an event it sent with `token`.
struct Sender {
    Sender(int64_t id, std::string_view token) {
        team.id = id;
        resolution.team = &team;
        resolution.token = token;
    }
    Sender(const Sender&) = delete;
    Sender& operator=(const Sender&) = delete;
    Team team;
    Resolution resolution;
};

struct Parsed {
    std::string kind;
    std::optional<int64_t> team;
    uint64_t count = 0;
    rapidjson::Document doc;
};

std::vector<Parsed> parse_records(const std::vector<OutputRecord>& records) {
    std::vector<Parsed> out;
    for (const OutputRecord& r : records) {
        Parsed p;
        p.doc = test::parse(r.value);
        REQUIRE(p.doc.IsObject());
        p.kind = p.doc["kind"].GetString();
        if (!p.doc["team_id"].IsNull()) p.team = p.doc["team_id"].GetInt64();
        p.count = p.doc["count"].GetUint64();
        CHECK(test::header(r, "audit_kind") == p.kind);
        CHECK(r.key == (p.team ? std::optional(std::to_string(*p.team)) : std::nullopt));
        out.push_back(std::move(p));
    }
    return out;
}

}  // namespace

TEST_CASE("audit: every kind is recorded once per team and kind, with its sample, fingerprint and counts") {
    Harness h({}, teams_with_shared_token);
    const FixedQuotaSource quota(QuotaLimits({QuotaLimits::Members{{"phc_public_noheat", 1'800'000'000}}, {}}));
    h.processor.set_quota(&quota);
    AuditTrail trail(test_key());
    h.processor.set_audit(&trail);
    const auto& r = h.run({
        test::event_with("phc_public_acme", forged),        // 100: forged, Acme
        test::event_with("phs_backup_acme", pageview),      // 101: the backup secret
        test::event_with("phs_secret_acme", pageview),      // 102: nothing to say
        test::event_with("phs_NeverIssued0000", pageview),  // 103: unknown secret-shaped
        test::event_with("phx_PersonalKey0000", pageview),  // 104: a personal key
        test::event_with("phs_shared_token_55", pageview),  // 105: two owners
        test::event_with("phc_public_beta",                 // 106: a secret to redact
                         R"({"event":"e","distinct_id":"u","properties":{"leak":"phs_secret_acme"}})"),
        test::event_with("phc_public_noheat", pageview),  // 107: over quota
        test::event_with("phc_public_acme", forged),      // 108: forged again
        test::event_with("phc_public_beta", pageview),    // 109: nothing to say
        test::event_with("phc_not_a_team", pageview),     // 110: unknown public: not a security event
    });
    REQUIRE(r.outcomes.size() == 11);
    // The first occurrence of the partition holds its offset; later ones need not.
    CHECK(r.outcomes[0].audit_hold);
    for (size_t i = 1; i < r.outcomes.size(); ++i) CHECK_FALSE(r.outcomes[i].audit_hold);

    const std::vector<Parsed> records = parse_records(trail.take_records());
    std::map<std::pair<std::string, std::optional<int64_t>>, const Parsed*> by_key;
    for (const Parsed& p : records) by_key[{p.kind, p.team}] = &p;
    const std::map<std::pair<std::string, std::optional<int64_t>>, uint64_t> expected = {
        {{"forged_verified_stripped", 2}, 2},
        {{"verified_with_backup_secret", 2}, 1},
        {{"unknown_secret_token", std::nullopt}, 1},
        {{"personal_key_as_token", std::nullopt}, 1},
        {{"token_owned_by_two_teams", std::nullopt}, 1},
        {{"secret_redacted", 3}, 1},
        {{"quota_limited", 4}, 1},
    };
    REQUIRE(records.size() == expected.size());
    for (const auto& [key, count] : expected) {
        INFO(key.first);
        REQUIRE(by_key.contains(key));
        CHECK(by_key[key]->count == count);
    }

    const rapidjson::Document& f = by_key[{"forged_verified_stripped", 2}]->doc;
    CHECK(std::string(f["sample"]["topic"].GetString()) == "events_plugin_ingestion");
    CHECK(f["sample"]["partition"].GetInt() == 1);
    CHECK(f["sample"]["offset"].GetInt64() == 100);                                 // the first occurrence
    CHECK(std::string(f["first_seen"].GetString()) == "2023-11-14T22:13:20.000Z");  // Harness's clock
    CHECK(std::string(f["last_seen"].GetString()) == "2023-11-14T22:13:20.000Z");
    REQUIRE(f["found_in"].IsArray());
    std::set<std::string> places;
    for (const auto& p : f["found_in"].GetArray()) places.insert(p.GetString());
    CHECK(places == std::set<std::string>{"properties", "person_properties"});
    CHECK_FALSE(by_key[{"quota_limited", 4}]->doc.HasMember("found_in"));

    // Fingerprints: the keyed hash of the token sent, never the token.
    const FingerprintKey key = test_key();
    const std::pair<std::pair<std::string, std::optional<int64_t>>, std::string> sent_with[] = {
        {{"forged_verified_stripped", 2}, "phc_public_acme"},
        {{"verified_with_backup_secret", 2}, "phs_backup_acme"},
        {{"unknown_secret_token", std::nullopt}, "phs_NeverIssued0000"},
        {{"personal_key_as_token", std::nullopt}, "phx_PersonalKey0000"},
        {{"token_owned_by_two_teams", std::nullopt}, "phs_shared_token_55"},
        {{"quota_limited", 4}, "phc_public_noheat"},
    };
    for (const auto& [k, token] : sent_with) {
        INFO(k.first);
        const rapidjson::Document& d = by_key[k]->doc;
        CHECK(std::string(d["token_fingerprint"].GetString()) == key.fingerprint(token));
        CHECK(std::string(d["fingerprint_key_id"].GetString()) == key.id());
    }
    for (const Parsed& p : records) {
        const std::string text = test::serialize(p.doc);
        for (const char* fragment : {"phc_", "phs_", "phx_", "leak", "$current_url", "\"u\""}) {
            INFO(text);
            CHECK(text.find(fragment) == std::string::npos);
        }
    }

    // The trail's totals are the metrics'; they agree with the outcome counters where both count.
    const AuditCounts& seen = trail.occurrences();
    CHECK(seen[size_t(AuditKind::forged_verified_stripped)] == h.counters.stripped);
    CHECK(seen[size_t(AuditKind::secret_redacted)] == h.counters.redacted);
    CHECK(seen[size_t(AuditKind::quota_limited)] == h.counters.dropped[size_t(DropCause::quota_limited)]);
    CHECK(trail.records_taken() == expected.size());
    CHECK(trail.empty());
}

TEST_CASE("audit: 100,000 forged events make one record per team, however many batches") {
    Harness h;
    AuditTrail trail(test_key());
    h.processor.set_audit(&trail);
    const test::Input acme = test::event_with("phc_public_acme", forged);
    const test::Input beta = test::event_with("phc_public_beta", forged);
    for (int batch = 0; batch < 100; ++batch) {
        std::vector<test::Input> inputs(1000, acme);
        for (size_t i = 0; i < inputs.size(); i += 4) inputs[i] = beta;
        h.run(inputs);
    }
    CHECK(h.counters.stripped == 100'000);
    const std::vector<Parsed> records = parse_records(trail.take_records());
    REQUIRE(records.size() == 2);
    CHECK(records[0].team == 2);
    CHECK(records[0].count == 75'000);
    CHECK(records[1].team == 3);
    CHECK(records[1].count == 25'000);
}

TEST_CASE("audit: an interval is due once it has lasted, and only with something to say") {
    AuditOptions options;
    options.interval = std::chrono::milliseconds(1000);
    AuditTrail trail(test_key(), options);
    const auto t0 = AuditTrail::Clock::time_point(std::chrono::hours(1));
    CHECK_FALSE(trail.due(t0 + std::chrono::hours(1)));  // empty
    const Sender sender(7, "phc_x");
    const Resolution& r = sender.resolution;
    MessageOutcome stripped;
    stripped.verification = Verification::stripped;
    stripped.stripped_from = strip_place(StripPlace::event);
    MessageView m;
    m.partition = 3;
    m.offset = 40;
    CHECK(trail.observe(m, r, stripped, 5, t0));
    m.partition = 4;
    CHECK(trail.observe(m, r, stripped, 6, t0 + std::chrono::milliseconds(500)));  // another partition
    m.partition = 3;
    m.offset = 41;
    CHECK_FALSE(trail.observe(m, r, stripped, 7, t0 + std::chrono::milliseconds(600)));
    CHECK_FALSE(trail.due(t0 + std::chrono::milliseconds(999)));
    CHECK(trail.due(t0 + std::chrono::milliseconds(1000)));
    CHECK(trail.take_records().size() == 1);
    CHECK_FALSE(trail.due(t0 + std::chrono::hours(2)));
    // A new interval holds its partitions' offsets again.
    CHECK(trail.observe(m, r, stripped, 8, t0 + std::chrono::seconds(2)));
    trail.discard();
    CHECK(trail.empty());
    CHECK(trail.occurrences()[size_t(AuditKind::forged_verified_stripped)] == 4);  // totals stay
}

TEST_CASE("audit: lanes' trails merge into one record per team and kind, keeping the earliest sample") {
    const Sender sender(2, "phc_a");
    const Resolution& r = sender.resolution;
    MessageOutcome quota;
    quota.drop = DropCause::quota_limited;
    AuditTrail first(test_key()), second(test_key());
    MessageView m;
    m.offset = 9;
    first.observe(m, r, quota, 2000);
    m.offset = 3;
    second.observe(m, r, quota, 1000);
    second.observe(m, r, quota, 3000);
    first.merge_from(second);
    CHECK(second.empty());
    const std::vector<Parsed> records = parse_records(first.take_records());
    REQUIRE(records.size() == 1);
    CHECK(records[0].count == 3);
    CHECK(records[0].doc["sample"]["offset"].GetInt64() == 3);
    CHECK(std::string(records[0].doc["first_seen"].GetString()) == "1970-01-01T00:00:01.000Z");
    CHECK(std::string(records[0].doc["last_seen"].GetString()) == "1970-01-01T00:00:03.000Z");
    CHECK(first.occurrences()[size_t(AuditKind::quota_limited)] == 3);
}

TEST_CASE("audit: past the aggregate bound, further teams count without their id") {
    AuditOptions options;
    options.max_aggregates = 2;
    AuditTrail trail(test_key(), options);
    MessageOutcome quota;
    quota.drop = DropCause::quota_limited;
    std::vector<Team> teams(5);
    for (size_t i = 0; i < teams.size(); ++i) {
        teams[i].id = int64_t(i + 1);
        Resolution r;
        r.team = &teams[i];
        trail.observe(MessageView{}, r, quota, 0);
    }
    const std::vector<Parsed> records = parse_records(trail.take_records());
    REQUIRE(records.size() == 3);
    CHECK_FALSE(records[0].team);
    CHECK(records[0].count == 3);
    CHECK(records[1].team == 1);
    CHECK(records[2].team == 2);
}

TEST_CASE("audit: fingerprints are keyed, short, and say which key made them") {
    const FingerprintKey a = FingerprintKey::from_secret("key-a-0123456789abcdef", "a");
    const FingerprintKey b = FingerprintKey::from_secret("key-b-0123456789abcdef", "b");
    CHECK(a.fingerprint("phs_secret_acme") == a.fingerprint("phs_secret_acme"));
    CHECK(a.fingerprint("phs_secret_acme") != b.fingerprint("phs_secret_acme"));
    CHECK(a.fingerprint("phs_secret_acme") != a.fingerprint("phs_secret_acmf"));
    CHECK(a.fingerprint("phs_secret_acme").size() == 16);
    CHECK(a.id().size() == 8);
    CHECK(a.id() != b.id());
    CHECK(FingerprintKey::random().id() != FingerprintKey::random().id());
    try {
        (void)FingerprintKey::from_secret("short-key-123", "--audit-key-file");
        FAIL("a short key was taken");
    } catch (const std::invalid_argument& e) {
        const std::string what = e.what();
        CHECK(what.find("--audit-key-file") != std::string::npos);
        CHECK(what.find("short-key") == std::string::npos);  // the key is never shown
    }
}

namespace {

AdminAuditEntry admin_call(bool accepted, std::string action, std::optional<int64_t> team, std::string result,
                           int64_t at_ms, std::string peer = "10.0.0.9") {
    AdminAuditEntry e;
    e.accepted = accepted;
    e.action = std::move(action);
    e.team = team;
    e.result = std::move(result);
    e.peer = std::move(peer);
    e.first_ms = e.last_ms = at_ms;
    return e;
}

}  // namespace

TEST_CASE("audit: admin calls are recorded per team and kind with their first request, and survive a discard") {
    AuditTrail trail(test_key());
    AdminAuditInbox inbox;
    CHECK_FALSE(inbox.post_accepted(admin_call(true, "flush", std::nullopt, "ok", 1)));  // nobody takes them yet
    inbox.open();
    REQUIRE(inbox.post_accepted(admin_call(true, "invalidate", 2, "ok", 1'795'168'800'000)));
    REQUIRE(inbox.post_accepted(admin_call(true, "invalidate", 2, "ok", 1'795'168'801'000)));
    REQUIRE(inbox.post_accepted(admin_call(true, "flush", std::nullopt, "ok", 1'795'168'802'000)));
    inbox.post_refused(admin_call(false, "flush", std::nullopt, "bad_signature", 1'795'168'803'000));
    inbox.post_refused(admin_call(false, "invalidate", 7, "replayed", 1'795'168'804'000));
    for (const AdminAuditEntry& e : inbox.take()) trail.record_admin(e);
    CHECK(inbox.take().empty());  // taken once
    trail.discard();              // an aborted transaction: admin calls are not processed again, so kept

    const std::vector<OutputRecord> records = trail.take_records();
    const std::vector<Parsed> parsed = parse_records(records);
    REQUIRE(parsed.size() == 3);
    // Team-less first: the flush and both refusals (whatever team their path named); then team 2.
    CHECK(parsed[0].kind == "admin_request");
    CHECK_FALSE(parsed[0].team);
    CHECK(parsed[0].count == 1);
    CHECK(std::string(parsed[0].doc["request"]["action"].GetString()) == "flush");
    CHECK(parsed[1].kind == "admin_request_refused");
    CHECK_FALSE(parsed[1].team);
    CHECK(parsed[1].count == 2);
    CHECK(parsed[1].doc["results"]["bad_signature"].GetUint64() == 1);
    CHECK(parsed[1].doc["results"]["replayed"].GetUint64() == 1);
    CHECK(std::string(parsed[1].doc["first_seen"].GetString()) == "2026-11-20T10:00:03.000Z");
    CHECK(std::string(parsed[1].doc["last_seen"].GetString()) == "2026-11-20T10:00:04.000Z");
    CHECK(parsed[2].kind == "admin_request");
    CHECK(parsed[2].team == 2);
    CHECK(parsed[2].count == 2);
    const rapidjson::Value& request = parsed[2].doc["request"];
    CHECK(std::string(request["action"].GetString()) == "invalidate");
    CHECK(std::string(request["result"].GetString()) == "ok");
    CHECK(std::string(request["peer"].GetString()) == "10.0.0.9");
    CHECK(request.MemberCount() == 3);
    CHECK_FALSE(parsed[2].doc.HasMember("sample"));  // no input message behind it
    CHECK_FALSE(parsed[2].doc.HasMember("results"));
    CHECK(trail.occurrences()[static_cast<size_t>(AuditKind::admin_request)] == 3);
    CHECK(trail.occurrences()[static_cast<size_t>(AuditKind::admin_request_refused)] == 2);
    CHECK(trail.empty());
}

TEST_CASE("audit: a flood of refused admin calls is one record, and crowds out neither calls nor events") {
    AuditOptions options;
    options.max_aggregates = 100;
    AuditTrail trail(test_key(), options);
    AdminAuditInbox inbox;
    inbox.open();
    // 10,000 unsigned calls, each naming another team: no secret needed to send them.
    for (int64_t team = 100'000; team < 110'000; ++team) {
        inbox.post_refused(admin_call(false, "invalidate", team, "missing_header", 1'795'168'800'000, "203.0.113.5"));
    }
    REQUIRE(inbox.post_accepted(admin_call(true, "invalidate", 2, "ok", 1'795'168'801'000)));
    REQUIRE(inbox.post_accepted(admin_call(true, "flush", std::nullopt, "ok", 1'795'168'802'000)));
    const std::vector<AdminAuditEntry> taken = inbox.take();
    CHECK(taken.size() == 3);
    for (const AdminAuditEntry& e : taken) trail.record_admin(e);
    // An event's occurrence still gets its team.
    Harness h;
    h.processor.set_audit(&trail);
    h.run({test::event_with("phs_backup_acme", pageview)});

    const std::vector<Parsed> parsed = parse_records(trail.take_records());
    std::map<std::pair<std::string, std::optional<int64_t>>, const Parsed*> by_key;
    for (const Parsed& p : parsed) by_key[{p.kind, p.team}] = &p;
    CHECK(parsed.size() == 4);
    REQUIRE(by_key.count({"admin_request_refused", std::nullopt}));
    const Parsed& refused = *by_key[{"admin_request_refused", std::nullopt}];
    CHECK(refused.count == 10'000);
    CHECK(refused.doc["results"]["missing_header"].GetUint64() == 10'000);
    REQUIRE(by_key.count({"admin_request", 2}));
    CHECK(std::string(by_key[{"admin_request", 2}]->doc["request"]["action"].GetString()) == "invalidate");
    REQUIRE(by_key.count({"admin_request", std::nullopt}));
    CHECK(std::string(by_key[{"admin_request", std::nullopt}]->doc["request"]["action"].GetString()) == "flush");
    CHECK(by_key.count({"verified_with_backup_secret", 2}) == 1);
}

TEST_CASE("audit: the admin inbox takes accepted calls only while open and with room; refusals never fill it") {
    AdminAuditInbox inbox;
    const AdminAuditEntry accepted = admin_call(true, "flush", std::nullopt, "ok", 1);
    CHECK_FALSE(inbox.post_accepted(accepted));
    inbox.open();
    for (int i = 0; i < 20'000; ++i) inbox.post_refused(admin_call(false, "flush", std::nullopt, "bad_signature", i));
    for (size_t i = 0; i < AdminAuditInbox::capacity; ++i) REQUIRE(inbox.post_accepted(accepted));
    CHECK_FALSE(inbox.post_accepted(accepted));  // full: the endpoint then does not act on it
    std::vector<AdminAuditEntry> taken = inbox.take();
    REQUIRE(taken.size() == AdminAuditInbox::capacity + 1);
    CHECK(taken.back().count == 20'000);
    CHECK(taken.back().first_ms == 0);
    CHECK(taken.back().last_ms == 19'999);
    CHECK(inbox.post_accepted(accepted));  // room again
    inbox.close();                         // the worker stops taking them
    CHECK_FALSE(inbox.post_accepted(accepted));
}
