// SPEC §4 ($verified) and §5 (heatmap split, secrets never leave), on every output.
#include "support.hpp"

#include "single_pass.hpp"
#include "utf8.hpp"

#include <string>
#include <vector>

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

// ---- where a forged $verified was stripped from (MessageOutcome::stripped_from) ----

namespace {

constexpr StripPlaces in_event = strip_place(StripPlace::event);
constexpr StripPlaces in_properties = strip_place(StripPlace::properties);
constexpr StripPlaces in_person = strip_place(StripPlace::person_properties);
constexpr StripPlaces in_shadowed = strip_place(StripPlace::shadowed);

struct PlaceCase {
    const char* what;
    std::string data;         // the client's event
    std::string extra_outer;  // outer members appended (a later `data` is the one the merge uses)
    StripPlaces places;
    bool single_pass_takes;  // the single-pass renderer accepts the shape (else only the DOM path runs)
};

// The client's event with `members` added after its event name and distinct id.
std::string client(const std::string& members = "") {
    return R"({"event":"e","distinct_id":"u")" + (members.empty() ? "" : "," + members) + "}";
}

// A later outer `data` string: the merge takes it, the capture value's own `data` is shadowed.
const std::string clean_later_data = R"("data":"{\"event\":\"e\",\"distinct_id\":\"u\"}")";

const std::vector<PlaceCase> place_cases = {
    {"nothing", client(R"("properties":{"verified":true,"x":{"$verified":1}})"), "", 0, true},
    {"the client's top level", client(R"("$verified":true)"), "", in_event, true},
    {"the outer top level", client(), R"("$verified":true)", in_event, false},
    {"properties.$verified", client(R"("properties":{"$verified":true})"), "", in_properties, true},
    {"properties.$set.$verified", client(R"("properties":{"$set":{"$verified":true}})"), "", in_person, true},
    {"properties.$set_once.$verified", client(R"("properties":{"$set_once":{"a":1,"$verified":1}})"), "", in_person,
     true},
    {"properties.$unset: [\"$verified\"]", client(R"("properties":{"$unset":["a","$verified"]})"), "", in_person,
     false},
    {"top-level $set.$verified", client(R"("$set":{"$verified":true})"), "", in_person, false},
    {"top-level $set_once.$verified", client(R"("$set_once":{"$verified":true})"), "", in_person, false},
    {"the outer $set.$verified", client(), R"("$set":{"$verified":1})", in_person, false},
    {"a shadowed data string", client(R"("$verified":true)"), clean_later_data, in_shadowed, false},
    {"a shadowed data string's properties", client(R"("properties":{"$set":{"$verified":1}})"), clean_later_data,
     in_shadowed, false},
    // Duplicated and disguised names count as the place they read as.
    {"a duplicate properties", client(R"("properties":{},"properties":{"$verified":true})"), "", in_properties, false},
    {"a NUL-disguised properties.$verified", client(R"("properties":{"$verified\u0000x":true})"), "", in_properties,
     false},
    {"an escaped properties.$verified", client(R"("properties":{"\u0024verified":true})"), "", in_properties, false},
    {"a disguised properties.$set", client(R"("properties":{"$set\u0000":{"$verified":true}})"), "", in_person, false},
    {"a duplicate $set", client(R"("properties":{"$set":{},"$set":{"$verified":true}})"), "", in_person, false},
    // Several places: their union.
    {"event, properties and person properties",
     client(R"("$verified":1,"properties":{"$verified":true,"$set":{"$verified":true}})"), "",
     in_event | in_properties | in_person, true},
    {"properties and person properties", client(R"("properties":{"$set_once":{"$verified":true},"$verified":0})"), "",
     in_properties | in_person, true},
    {"every place but a shadowed copy",
     client(R"("$verified":1,"properties":{"$verified":true,"$unset":["$verified"]})"), R"("$set":{"$verified":1})",
     in_event | in_properties | in_person, false},
    {"every place", client(R"("properties":{"$verified":true})"),
     R"("$verified":1,"data":"{\"event\":\"e\",\"distinct_id\":\"u\",\"properties\":{\"$verified\":1,\"$set\":{\"$verified\":1}}}")",
     in_event | in_properties | in_person | in_shadowed, false},
};

// Runs `in` alone through the DOM path, then the single-pass path, and hands `check` each result.
template <typename Check>
void on_both_paths(const test::Input& in, Check&& check) {
    for (const bool single_pass : {false, true}) {
        CAPTURE(single_pass);
        CoreLimits limits;
        limits.single_pass = single_pass;
        Harness h(limits);
        const auto& r = h.run_one(in);
        REQUIRE(r.outcomes.size() == 1);
        check(r);
    }
}

Team acme_team() {
    Team t;
    t.id = 2;
    t.project_id = 20;
    t.api_token = "phc_public_acme";
    t.secret_api_token = "phs_secret_acme";
    t.secret_api_token_backup = "phs_backup_acme";
    return t;
}

}  // namespace

TEST_CASE("stripped_from: each place alone, unions of places, on both paths") {
    for (const PlaceCase& c : place_cases) {
        CAPTURE(c.what);
        const test::Input in = test::event_with("phc_public_acme", c.data, c.extra_outer);
        // Whether the single-pass renderer takes the shape, and what it finds there.
        SinglePass pass;
        SinglePassResult fast;
        REQUIRE(pass.render(in.value, acme_team(), false, false, 64, fast) == c.single_pass_takes);
        if (c.single_pass_takes) {
            CHECK(fast.stripped_from == c.places);
            CHECK(fast.verification == (c.places != 0 ? Verification::stripped : Verification::none));
        }
        on_both_paths(in, [&](const BatchResult& r) {
            CHECK(r.outcomes[0].stripped_from == c.places);
            CHECK(r.outcomes[0].verification == (c.places != 0 ? Verification::stripped : Verification::none));
            REQUIRE(r.records.size() == 1);
            CHECK(r.records[0].destination == Destination::analytics);
        });
    }
}

TEST_CASE("stripped_from: events sent with a secret have none, whatever they carry") {
    for (const PlaceCase& c : place_cases) {
        for (const char* token : {"phs_secret_acme", "phs_backup_acme"}) {
            CAPTURE(c.what);
            CAPTURE(token);
            const test::Input in = test::event_with(token, c.data, c.extra_outer);
            SinglePass pass;
            SinglePassResult fast;
            if (pass.render(in.value, acme_team(), true, false, 64, fast)) {
                CHECK(fast.verification == Verification::verified);
                CHECK(fast.stripped_from == 0);
            }
            on_both_paths(in, [](const BatchResult& r) {
                CHECK(r.outcomes[0].verification == Verification::verified);
                CHECK(r.outcomes[0].stripped_from == 0);
            });
        }
    }
}

TEST_CASE("stripped_from: dropped and dead-lettered events have none") {
    for (const bool single_pass : {false, true}) {
        CAPTURE(single_pass);
        CoreLimits limits;
        limits.single_pass = single_pass;
        Harness h(limits);
        // A forged $verified in a heatmap event of a team that opted out: dropped before verification counts.
        const auto& dropped = h.run_one(test::event_with(
            "phc_public_noheat",
            R"({"event":"$$heatmap","distinct_id":"u","properties":{"$verified":true,"$heatmap_data":{}}})"));
        REQUIRE(dropped.outcomes.size() == 1);
        CHECK(dropped.outcomes[0].drop == DropCause::heatmap_opt_in_disabled);
        CHECK(dropped.outcomes[0].verification == Verification::none);
        CHECK(dropped.outcomes[0].stripped_from == 0);
        // Past the size limit: a dead letter, not a strip.
        CoreLimits small = limits;
        small.max_message_bytes = CoreLimits::min_message_bytes;
        Harness tight(small);
        const auto& dead = tight.run_one(test::event_with(
            "phc_public_acme", client(R"("properties":{"$verified":true,"pad":")" + std::string(2000, 'x') + "\"}")));
        REQUIRE(dead.outcomes.size() == 1);
        CHECK(dead.outcomes[0].dead_letter.has_value());
        CHECK(dead.outcomes[0].verification == Verification::none);
        CHECK(dead.outcomes[0].stripped_from == 0);
    }
}
