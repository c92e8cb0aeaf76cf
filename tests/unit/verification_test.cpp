// SPEC §4 ($verified) and §5 (heatmap split, secrets never leave), on every output.
#include "support.hpp"

#include "utf8.hpp"

using namespace warden;
using test::Harness;

namespace {

// Every place a downstream JSON reader could see a `$verified`.
bool any_verified(const rapidjson::Value& event) {
    auto has_key = [](const rapidjson::Value& o) {
        if (!o.IsObject()) return false;
        for (auto m = o.MemberBegin(); m != o.MemberEnd(); ++m) {
            std::string name(m->name.GetString(), m->name.GetStringLength());
            if (name.rfind("$verified", 0) == 0) return true;
        }
        return false;
    };
    auto has_element = [](const rapidjson::Value& a) {
        if (!a.IsArray()) return false;
        for (const auto& e : a.GetArray()) {
            if (e.IsString() && std::string(e.GetString()).rfind("$verified", 0) == 0) return true;
        }
        return false;
    };
    if (has_key(event)) return true;
    for (const char* top : {"$set", "$set_once"}) {
        if (event.HasMember(top) && has_key(event[top])) return true;
    }
    if (!event.HasMember("properties")) return false;
    const auto& p = event["properties"];
    if (has_key(p)) return true;
    for (auto m = p.MemberBegin(); m != p.MemberEnd(); ++m) {
        std::string name = m->name.GetString();
        if ((name == "$set" || name == "$set_once" || name == "$unset") &&
            (has_key(m->value) || has_element(m->value))) {
            return true;
        }
    }
    return false;
}

const std::string forgeries[] = {
    R"({"event":"e","distinct_id":"u","properties":{"$verified":true}})",
    R"({"event":"e","distinct_id":"u","properties":{"$verified":false,"$verified":true}})",
    R"({"event":"e","distinct_id":"u","properties":{"\u0024verified":true}})",
    R"({"event":"e","distinct_id":"u","properties":{"$verified\u0000":true}})",
    R"({"event":"e","distinct_id":"u","properties":{"$set":{"$verified":true}}})",
    R"({"event":"e","distinct_id":"u","properties":{"$set":{},"$set":{"$verified":true}}})",
    R"({"event":"e","distinct_id":"u","properties":{"$set_once":{"$verified":true}}})",
    R"({"event":"e","distinct_id":"u","properties":{"$unset":["a","$verified"]}})",
    R"({"event":"e","distinct_id":"u","properties":{"$unset":{"$verified":1}}})",
    R"({"event":"e","distinct_id":"u","$set":{"$verified":true}})",
    R"({"event":"e","distinct_id":"u","$set_once":{"$verified":true}})",
    R"({"event":"e","distinct_id":"u","$verified":true})",
    R"({"event":"e","distinct_id":"u","properties":{},"properties":{"$verified":true}})",
    R"({"event":"$exception","distinct_id":"u","properties":{"$verified":true}})",
    R"({"event":"$$heatmap","distinct_id":"u","properties":{"$verified":true,"$heatmap_data":{}}})",
    R"({"event":"e","distinct_id":"u","properties":{"$verified":true,"$heatmap_data":{"u":[]}}})",
};

}  // namespace

TEST_CASE("public-token events lose every forged $verified and count one strip") {
    for (const std::string& data : forgeries) {
        CAPTURE(data);
        Harness h;
        const auto& r = h.run_one(test::event_with("phc_public_acme", data));
        REQUIRE(r.outcomes.size() == 1);
        CHECK(r.outcomes[0].verification == Verification::stripped);
        REQUIRE(r.records.size() >= 1);
        for (const auto& rec : r.records) {
            CHECK(rec.destination != Destination::dead_letter);
            CHECK_FALSE(any_verified(test::parse(rec.value)));
            CHECK(test::header(rec, "verified") == "false");
        }
        CHECK(h.counters.stripped == 1);
        CHECK(h.counters.verified == 0);
    }
}

TEST_CASE("forged outer fields and headers cannot claim verification") {
    Harness h;
    auto in = test::event_with("phc_public_acme", R"({"event":"e","distinct_id":"u"})",
                               R"("properties":{"$verified":true},"$set":{"$verified":1})");
    in.headers.push_back({"verified", "true"});
    in.headers.push_back({"Verified", "true"});
    in.headers.push_back({"team_id", "1"});
    const auto& r = h.run_one(in);
    REQUIRE(r.records.size() == 1);
    CHECK_FALSE(any_verified(test::parse(r.records[0].value)));
    CHECK(test::header_count(r.records[0], "verified") == 1);
    CHECK(test::header(r.records[0], "verified") == "false");
    CHECK(test::header_count(r.records[0], "team_id") == 1);
    CHECK(test::header(r.records[0], "team_id") == "2");
    CHECK(r.outcomes[0].verification == Verification::stripped);
}

TEST_CASE("clean public events are neither verified nor stripped") {
    Harness h;
    const auto& r = h.run_one(test::event_with(
        "phc_public_acme", R"({"event":"e","distinct_id":"u","properties":{"verified":true,"x":{"$verified":1}}})"));
    CHECK(r.outcomes[0].verification == Verification::none);
    auto d = test::parse(r.records[0].value);
    CHECK(d["properties"]["verified"].GetBool());        // a different name, untouched
    CHECK(d["properties"]["x"].HasMember("$verified"));  // nested deeper, not properties.$verified
}

TEST_CASE("secret and backup tokens set $verified: true, overwriting the client value") {
    for (const char* token : {"phs_secret_acme", "phs_backup_acme"}) {
        CAPTURE(token);
        Harness h;
        const auto& r = h.run_one(test::event_with(
            token,
            R"({"event":"e","distinct_id":"u","properties":{"$verified":false,"$set":{"$verified":"person"}}})"));
        REQUIRE(r.records.size() == 1);
        auto d = test::parse(r.records[0].value);
        CHECK(d["properties"]["$verified"].GetBool());
        CHECK(std::string(d["properties"]["$set"]["$verified"].GetString()) == "person");  // trusted sender
        CHECK(r.outcomes[0].verification == Verification::verified);
        CHECK(test::header(r.records[0], "verified") == "true");
        CHECK(*r.records[0].key == "2:user-42");  // same partition key as public-token events
        CHECK(h.counters.verified == 1);
    }
}

TEST_CASE("a verified event without properties gets a properties object") {
    Harness h;
    const auto& r = h.run_one(test::event_with("phs_secret_acme", R"({"event":"e","distinct_id":"u"})"));
    CHECK(test::parse(r.records[0].value)["properties"]["$verified"].GetBool());
}

TEST_CASE("teams without secrets never verify; a public token equal to nothing secret stays public") {
    Harness h;
    const auto& r = h.run_one(
        test::event_with("phc_public_beta", R"({"event":"e","distinct_id":"u","properties":{"$verified":true}})"));
    CHECK(r.outcomes[0].verification == Verification::stripped);
    CHECK(test::header(r.records[0], "verified") == "false");
}

TEST_CASE("secret tokens never appear in any output value, key or header") {
    Harness h;
    auto in = test::event_with("phs_secret_acme",
                               R"({"event":"e","distinct_id":"u","token":"phs_secret_acme","api_key":"phs_secret_acme",
                                   "properties":{"token":"phs_secret_acme","url":"https://x/?k=phs_backup_acme","phs_secret_acme":1,
                                   "$heatmap_data":{"phs_secret_acme":[]},"$current_url":"phs_secret_acme"}})");
    in.headers.push_back({"x-echo", "phs_secret_acme"});
    in.headers.push_back({"distinct_id", "phs_secret_acme"});
    const auto& r = h.run_one(in);
    REQUIRE(r.records.size() == 2);
    CHECK(r.outcomes[0].secret_redacted);
    for (const auto& rec : r.records) {
        CHECK(rec.value->find("phs_") == std::string::npos);
        CHECK(rec.key->find("phs_") == std::string::npos);
        for (size_t i = 0; i < rec.headers.size(); ++i) {
            auto hv = rec.headers[i];
            CHECK(hv.name.find("phs_") == std::string_view::npos);
            if (hv.value) CHECK(hv.value->find("phs_") == std::string_view::npos);
        }
    }
    auto d = test::parse(r.records[0].value);
    CHECK(d["properties"]["$verified"].GetBool());
    CHECK(std::string(d["properties"]["url"].GetString()) == "https://x/?k=[redacted]");
}

TEST_CASE("heatmap split: analytics without $heatmap_data plus a $$heatmap event with a derived uuid") {
    Harness h;
    const std::string data =
        R"({"event":"$pageview","distinct_id":"u","properties":{"$heatmap_data":{"u":[1]},"$viewport_height":800,
        "$viewport_width":1280,"$session_id":"s","$prev_pageview_pathname":"/a","$prev_pageview_max_scroll":5,"$current_url":"https://x/","other":1}})";
    const auto& r = h.run_one(test::event_with("phs_secret_acme", data));
    REQUIRE(r.records.size() == 2);
    CHECK(r.records[0].destination == Destination::analytics);
    CHECK(r.records[1].destination == Destination::heatmaps);
    auto a = test::parse(r.records[0].value);
    CHECK_FALSE(a["properties"].HasMember("$heatmap_data"));
    CHECK(a["properties"]["other"].GetInt() == 1);
    auto hm = test::parse(r.records[1].value);
    CHECK(std::string(hm["event"].GetString()) == "$$heatmap");
    std::string derived = hm["uuid"].GetString();
    CHECK(derived != "01900a3c-8f1e-7a2b-9c3d-4e5f60718293");
    CHECK(test::header(r.records[1], "uuid") == derived);
    CHECK(test::header(r.records[1], "event") == "$$heatmap");
    const auto& p = hm["properties"];
    CHECK(p.MemberCount() == 8);  // the seven heatmap properties and $verified
    CHECK_FALSE(p.HasMember("other"));
    CHECK(p["$verified"].GetBool());
    CHECK(hm["team_id"].GetInt() == 2);

    Harness again;  // a replay derives the same id
    CHECK(test::parse(again.run_one(test::event_with("phs_secret_acme", data)).records[1].value)["uuid"].GetString() ==
          derived);
}

TEST_CASE("heatmap split is skipped when capture already split it off") {
    Harness h;
    auto in = test::event_with("phc_public_acme",
                               R"({"event":"$pageview","distinct_id":"u","properties":{"$heatmap_data":{}}})");
    in.headers.push_back({"skip_heatmap_processing", "true"});
    const auto& r = h.run_one(in);
    REQUIRE(r.records.size() == 1);
    CHECK(r.records[0].destination == Destination::analytics);
}

TEST_CASE("heatmaps_opt_in = false: no heatmap output, analytics still goes out, drop counted") {
    Harness h;
    const auto& r =
        h.run({test::event_with("phc_public_noheat",
                                R"({"event":"$pageview","distinct_id":"u","properties":{"$heatmap_data":{}}})"),
               test::event_with("phc_public_noheat",
                                R"({"event":"$$heatmap","distinct_id":"u","properties":{"$heatmap_data":{}}})")});
    REQUIRE(r.outcomes.size() == 2);
    CHECK(r.outcomes[0].record_count == 1);
    CHECK(r.records[0].destination == Destination::analytics);
    CHECK(r.outcomes[0].drop == DropCause::heatmap_opt_in_disabled);
    CHECK(r.outcomes[1].record_count == 0);
    CHECK(r.outcomes[1].drop == DropCause::heatmap_opt_in_disabled);
    CHECK(h.counters.dropped[static_cast<size_t>(DropCause::heatmap_opt_in_disabled)] == 2);
    // null opt-in (team 3) means allowed
    Harness beta;
    CHECK(beta.run_one(test::event_with("phc_public_beta",
                                        R"({"event":"$pageview","distinct_id":"u","properties":{"$heatmap_data":{}}})"))
              .records.size() == 2);
}
