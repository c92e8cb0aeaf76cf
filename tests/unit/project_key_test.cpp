// Project secret API keys through the pipeline: a key with the ingestion scope verifies its team's
// events exactly as the team secret does; one without is refused as insufficient_scope, counted and
// audited under its team; a key's text reaches no output; the teams file reads keys as the key
// table holds them and refuses any other hash form.
#include "support.hpp"

#include <warden/audit.hpp>
#include <warden/teams.hpp>

using namespace warden;

namespace {

const std::string scoped_key = "phs_ProjectKeyScoped0000000000";
const std::string unscoped_key = "phs_ProjectKeyUnscoped00000000";

std::string teams_with_keys(std::string_view scoped_form = "") {
    const std::string scoped =
        scoped_form.empty() ? "sha256$" + TokenDigest::of(scoped_key).hex() : std::string(scoped_form);
    return R"([{"id":70,"project_id":700,"api_token":"phc_keyed_team","secret_api_token":"phs_team_secret_70",
                "project_secret_api_keys":[
                  {"secure_value":")" +
           scoped + R"(","scopes":["feature_flag:read","event:write"]},
                  {"secure_value":"sha256$)" +
           TokenDigest::of(unscoped_key).hex() + R"(","scopes":["feature_flag:read"]}]},
               {"id":71,"project_id":710,"api_token":"phc_other_team"}])";
}

const std::string forged_event =
    R"({"event":"$pageview","distinct_id":"u","properties":{"$verified":"yes","note":"phs_ProjectKeyScoped0000000000"}})";

}  // namespace

TEST_CASE("project keys: a scoped key verifies like the team secret, an unscoped one is refused and audited") {
    test::Harness h({}, teams_with_keys());
    AuditTrail trail(FingerprintKey::from_secret("0123456789abcdef-test-key", "test"));
    h.processor.set_audit(&trail);
    const auto& r = h.run({
        test::event_with(scoped_key, forged_event),            // verified, team 70
        test::event_with("phs_team_secret_70", forged_event),  // the team secret: the same outcome
        test::event_with(unscoped_key, forged_event),          // refused: insufficient_scope
        test::event_with("phc_keyed_team", forged_event),      // public: stripped
        test::event_with("phs_ProjectKeyNeverIssued0000", forged_event),
    });
    REQUIRE(r.outcomes.size() == 5);
    for (size_t i : {0, 1}) {
        CAPTURE(i);
        REQUIRE(r.outcomes[i].record_count == 1);
        const OutputRecord& out = r.records[r.outcomes[i].first_record];
        CHECK(test::header(out, "team_id") == "70");
        CHECK(test::header(out, "verified") == "true");
        CHECK(r.outcomes[i].verification == Verification::verified);
        const auto doc = test::parse(out.value);
        CHECK(doc["properties"]["$verified"].GetBool());
        // No key in any output: the key the event came with is redacted like any other.
        CHECK(out.value->find("ProjectKey") == std::string::npos);
        CHECK(out.key->find("ProjectKey") == std::string::npos);
        for (size_t k = 0; k < out.headers.size(); ++k) {
            CHECK(std::string(out.headers[k].value.value_or("")).find("ProjectKey") == std::string::npos);
        }
    }
    CHECK(r.outcomes[2].drop == DropCause::insufficient_scope);
    CHECK(r.outcomes[2].record_count == 0);
    CHECK(r.outcomes[3].verification == Verification::stripped);
    CHECK(r.outcomes[4].drop == DropCause::invalid_token);
    CHECK(h.counters.dropped[static_cast<size_t>(DropCause::insufficient_scope)] == 1);
    CHECK(h.counters.verified == 2);

    std::map<std::string, std::string> kinds;  // kind -> team_id
    for (const OutputRecord& record : trail.take_records()) {
        const auto doc = test::parse(record.value);
        kinds[doc["kind"].GetString()] = doc["team_id"].IsNull() ? "null" : std::to_string(doc["team_id"].GetInt64());
        CHECK(record.value->find("ProjectKey") == std::string::npos);
    }
    CHECK(kinds["insufficient_scope"] == "70");
    CHECK(kinds.contains("unknown_secret_token"));
}

TEST_CASE("project keys: the teams file takes sha256$ hashes only, and a scope-less key never verifies") {
    const std::string hex = TokenDigest::of(scoped_key).hex();
    for (const std::string& forged :
         {"pbkdf2_sha256$" + hex, "sha1$" + hex, hex, "sha256$" + hex.substr(2), scoped_key}) {
        CAPTURE(forged);
        CHECK_THROWS_WITH_AS(
            FileTeamStore::from_json(teams_with_keys(forged), "keys.json"),
            doctest::Contains("keys.json: team #0, project key #0: \"secure_value\" must read sha256$"),
            std::runtime_error);
    }
    CHECK_THROWS_WITH_AS(
        FileTeamStore::from_json(R"([{"id":1,"api_token":"phc_a","project_secret_api_keys":{}}])", "k.json"),
        doctest::Contains("must be an array of key objects"), std::runtime_error);
    // Another scope configured: the keys swap roles.
    auto store = FileTeamStore::from_json(teams_with_keys(), "keys.json", "feature_flag:read");
    TeamCache cache(*store);
    const std::vector<TokenKey> keys{TokenKey(scoped_key), TokenKey(unscoped_key)};
    std::vector<ResolvedToken> out;
    REQUIRE(cache.resolve_batch(keys, out));
    CHECK(out[0].credential == Credential::project_key);
    CHECK(out[1].credential == Credential::project_key);
    auto narrow = FileTeamStore::from_json(teams_with_keys(), "keys.json", "admin:write");
    TeamCache narrow_cache(*narrow);
    REQUIRE(narrow_cache.resolve_batch(keys, out));
    CHECK(out[0].credential == Credential::project_key_without_scope);
    CHECK(out[1].credential == Credential::project_key_without_scope);
    CHECK_FALSE(verifies(out[0].credential));
}
