// SPEC §2 (parse and merge), §3 (team resolution outcomes), §5 (routing), §6 (drops, DLQ).
#include "support.hpp"

#include "utf8.hpp"

using namespace warden;
using test::Harness;
using test::Input;

namespace {
const std::string page =
    R"({"event":"$pageview","distinct_id":"inner-id","properties":{"$current_url":"https://x/","a":1},"timestamp":"2024-06-10T06:13:20.200Z","token":"phc_public_acme"})";

const OutputRecord& only_record(const BatchResult& r) {
    REQUIRE(r.outcomes.size() == 1);
    REQUIRE(r.records.size() == 1);
    return r.records[0];
}
}  // namespace

TEST_CASE("merge: outer fields win, token removed, enriched fields present") {
    Harness h;
    const auto& r = only_record(h.run_one(test::event_with("phc_public_acme", page)));
    CHECK(r.destination == Destination::analytics);
    auto d = test::parse(r.value);
    CHECK(std::string(d["uuid"].GetString()) == "01900a3c-8f1e-7a2b-9c3d-4e5f60718293");
    CHECK(std::string(d["distinct_id"].GetString()) == "user-42");  // outer wins over data
    CHECK(std::string(d["event"].GetString()) == "$pageview");
    CHECK(d["team_id"].GetInt() == 2);
    CHECK(d["project_id"].GetInt() == 20);
    CHECK(std::string(d["timestamp"].GetString()) == "2024-06-10T06:13:20.056789Z");
    CHECK(std::string(d["now"].GetString()) == "2024-06-10T06:13:20.456789Z");
    CHECK(std::string(d["sent_at"].GetString()) == "2024-06-10T06:13:20.600Z");
    CHECK_FALSE(d.HasMember("token"));
    CHECK_FALSE(d.HasMember("ip"));
    CHECK_FALSE(d.HasMember("data"));
    const auto& p = d["properties"];
    CHECK(std::string(p["$ip"].GetString()) == "203.0.113.7");
    CHECK(std::string(p["$sent_at"].GetString()) == "2024-06-10T06:13:20.600Z");
    CHECK(p["a"].GetInt() == 1);
    CHECK(*r.key == "2:user-42");
    CHECK(test::header(r, "team_id") == "2");
    CHECK(test::header(r, "verified") == "false");
    CHECK(test::header_count(r, "token") == 0);
    CHECK(test::header(r, "distinct_id") == "user-42");
}

TEST_CASE("merge: data may be an object; outer properties replace inner ones; team_id is overwritten") {
    Harness h;
    Input in = test::event_with("phc_public_acme", "{}");
    in.value = R"({"uuid":"01900a3c-8f1e-7a2b-9c3d-4e5f60718293","distinct_id":7,"event":true,"token":"phc_public_acme",
      "data":{"event":"x","distinct_id":"d","properties":{"inner":1},"team_id":999,"project_id":999,"custom":"kept"},
      "properties":{"outer":2},"team_id":998})";
    const auto& r = only_record(h.run_one(in));
    auto d = test::parse(r.value);
    CHECK(std::string(d["distinct_id"].GetString()) == "7");
    CHECK(std::string(d["event"].GetString()) == "true");
    CHECK(d["team_id"].GetInt() == 2);
    CHECK(d["project_id"].GetInt() == 20);
    CHECK(std::string(d["custom"].GetString()) == "kept");
    CHECK(d["properties"].HasMember("outer"));
    CHECK_FALSE(d["properties"].HasMember("inner"));
    CHECK(*r.key == "2:7");
    int team_ids = 0;
    for (const auto& m : d.GetObject()) team_ids += std::string(m.name.GetString()) == "team_id";
    CHECK(team_ids == 1);  // a forged duplicate would let a last-wins reader pick it
}

TEST_CASE("merge: top-level $set/$set_once merge into properties with their precedence") {
    Harness h;
    const std::string data =
        R"({"event":"$identify","distinct_id":"u","properties":{"$set":{"a":"inner","b":"inner"},"$set_once":{"c":"inner"}},"$set":{"a":"top"},"$set_once":{"c":"top","d":"top"}})";
    auto d = test::parse(only_record(h.run_one(test::event_with("phc_public_acme", data))).value);
    const auto& p = d["properties"];
    CHECK(std::string(p["$set"]["a"].GetString()) == "top");
    CHECK(std::string(p["$set"]["b"].GetString()) == "inner");
    CHECK(std::string(p["$set_once"]["c"].GetString()) == "inner");
    CHECK(std::string(p["$set_once"]["d"].GetString()) == "top");
}

TEST_CASE("merge: existing $ip is kept; anonymize_ips removes it; NUL in distinct_id becomes U+FFFD") {
    Harness h;
    auto d = test::parse(
        only_record(h.run_one(test::event_with("phc_public_acme",
                                               R"({"event":"e","distinct_id":"u","properties":{"$ip":"10.0.0.1"}})")))
            .value);
    CHECK(std::string(d["properties"]["$ip"].GetString()) == "10.0.0.1");

    Harness anon;
    auto a = test::parse(
        only_record(anon.run_one(test::event_with(
                        "phc_public_beta", R"({"event":"e","distinct_id":"u","properties":{"$ip":"10.0.0.1"}})")))
            .value);
    CHECK_FALSE(a["properties"].HasMember("$ip"));

    Harness nul;
    Input in = test::event_with("phc_public_acme", R"({"event":"e"})");
    in.value = R"({"uuid":"01900a3c-8f1e-7a2b-9c3d-4e5f60718293","distinct_id":"a\u0000b","event":"e","data":"{}"})";
    const auto& r = only_record(nul.run_one(in));
    CHECK(std::string(test::parse(r.value)["distinct_id"].GetString()) ==
          "a\xEF\xBF\xBD"
          "b");
    CHECK(*r.key ==
          "2:a\xEF\xBF\xBD"
          "b");
}

TEST_CASE("invalid UTF-8 is repaired to U+FFFD in value, key and headers") {
    Harness h;
    Input in = test::event_with("phc_public_acme", "{}");
    in.value =
        "{\"uuid\":\"01900a3c-8f1e-7a2b-9c3d-4e5f60718293\",\"distinct_id\":\"bad\xFF\",\"event\":\"e\xC0\","
        "\"data\":\"{\\\"properties\\\":{\\\"k\\u00e9\\\":\\\"\\udc00\\\"}}\"}";
    in.headers.push_back({"note", std::string("x\xFE")});
    const auto& r = only_record(h.run_one(in));
    CHECK(utf8::is_valid(*r.value));
    CHECK(utf8::is_valid(*r.key));
    for (size_t i = 0; i < r.headers.size(); ++i) {
        CHECK(utf8::is_valid(r.headers[i].name));
        if (r.headers[i].value) CHECK(utf8::is_valid(*r.headers[i].value));
    }
    auto d = test::parse(r.value);
    CHECK(std::string(d["distinct_id"].GetString()) == "bad\xEF\xBF\xBD");
}

TEST_CASE("tokens: header first, value fallback, missing, invalid, personal keys and unknown") {
    Harness h;
    Input header_only = test::event_with("phc_public_acme", page);
    Input from_value = test::event_with("phc_public_acme", page);
    from_value.headers = {{"token", std::string()}, {"distinct_id", "user-42"}};  // empty header = absent
    Input missing = test::event_with("phc_public_acme", page);
    missing.headers = {{"token", std::nullopt}};
    missing.value = R"({"uuid":"01900a3c-8f1e-7a2b-9c3d-4e5f60718293","distinct_id":"u","event":"e","data":"{}"})";
    Input personal = test::event_with("phx_personal_key", page);
    Input too_long = test::event_with(std::string(65, 'a'), page);
    Input unknown = test::event_with("phc_unknown", page);
    Input quoted = test::event_with("phc_'\";--\\", page);
    const auto& r = h.run({header_only, from_value, missing, personal, too_long, unknown, quoted});
    REQUIRE(r.outcomes.size() == 7);
    CHECK(r.outcomes[0].record_count == 1);
    CHECK(r.outcomes[1].record_count == 1);
    CHECK(r.outcomes[2].drop == DropCause::no_token);
    CHECK(r.outcomes[3].drop == DropCause::invalid_token);
    CHECK(r.outcomes[4].drop == DropCause::invalid_token);
    CHECK(r.outcomes[5].drop == DropCause::invalid_token);
    CHECK(r.outcomes[6].drop == DropCause::invalid_token);
    // Syntactically refused tokens never reach the store: only two distinct lookups happened.
    CHECK(h.store->fetch_count() == 1);
    CHECK(h.cache.stats().misses == 4);  // acme ×2 (same batch), unknown, quoted
}

TEST_CASE("dead letters keep the original bytes and carry the dlq headers") {
    Harness h;
    Input truncated;
    truncated.value = R"({"uuid": "truncated)";
    truncated.headers = {{"token", "phc_public_acme"}, {"custom", std::nullopt}};
    truncated.key = std::nullopt;
    const auto& r = h.run_one(truncated);
    REQUIRE(r.outcomes.size() == 1);
    CHECK(r.outcomes[0].dead_letter == DeadLetterReason::failed_parse_message);
    const auto& rec = only_record(r);
    CHECK(rec.destination == Destination::dead_letter);
    CHECK(*rec.value == truncated.value);
    CHECK_FALSE(rec.key.has_value());
    CHECK(test::header(rec, "token") == "phc_public_acme");  // byte for byte, header included
    CHECK(rec.headers[1].name == "custom");
    CHECK_FALSE(rec.headers[1].value.has_value());
    CHECK(test::header(rec, "dlq_reason") == "failed_parse_message");
    CHECK(test::header(rec, "dlq_step") == "parse_message");
    CHECK(test::header(rec, "dlq_timestamp") == "1700000000000");
    CHECK(test::header(rec, "dlq_topic") == "events_plugin_ingestion");
    CHECK(test::header(rec, "dlq_partition") == "1");
    CHECK(test::header(rec, "dlq_offset") == "100");
}

TEST_CASE("malformed values of known teams are dead-lettered with the right reason") {
    struct Case {
        const char* value;
        DeadLetterReason reason;
    };
    const Case cases[] = {
        {"not json", DeadLetterReason::failed_parse_message},
        {"[1,2]", DeadLetterReason::failed_parse_message},
        {R"({"uuid":"01900a3c-8f1e-7a2b-9c3d-4e5f60718293","data":"{bad"})", DeadLetterReason::failed_parse_message},
        {R"({"uuid":"01900a3c-8f1e-7a2b-9c3d-4e5f60718293","data":"[]"})", DeadLetterReason::failed_parse_message},
        {R"({"uuid":"01900a3c-8f1e-7a2b-9c3d-4e5f60718293","data":5})", DeadLetterReason::failed_parse_message},
        {R"({"uuid":"01900a3c-8f1e-7a2b-9c3d-4e5f60718293","distinct_id":{},"event":"e","data":"{}"})",
         DeadLetterReason::failed_parse_message},
        {R"({"uuid":"01900a3c-8f1e-7a2b-9c3d-4e5f60718293","distinct_id":"u","event":[],"data":"{}"})",
         DeadLetterReason::failed_parse_message},
        {R"({"uuid":"01900a3c-8f1e-7a2b-9c3d-4e5f60718293","distinct_id":"u","data":"{}"})",
         DeadLetterReason::failed_parse_message},
        {R"({"uuid":"01900a3c-8f1e-7a2b-9c3d-4e5f60718293","distinct_id":"u","event":"e","data":"{\"properties\":[]}"})",
         DeadLetterReason::failed_parse_message},
        {R"({"uuid":"01900a3c-8f1e-7a2b-9c3d-4e5f60718293","distinct_id":"u","event":"e","$set":"x","data":"{}"})",
         DeadLetterReason::failed_parse_message},
        {R"({"uuid":"01900a3c-8f1e-7a2b-9c3d-4e5f60718293","distinct_id":"u","event":"e","data":"{\"properties\":{\"$set\":1}}"})",
         DeadLetterReason::failed_parse_message},
        {R"({"uuid":"01900a3c-8f1e-7a2b-9c3d-4e5f60718293","distinct_id":"u","event":"e","data":"{}"} trailing)",
         DeadLetterReason::failed_parse_message},
        {R"({"uuid":"","distinct_id":"u","event":"e","data":"{}"})", DeadLetterReason::empty_uuid},
        {R"({"distinct_id":"u","event":"e","data":"{}"})", DeadLetterReason::empty_uuid},
        {R"({"uuid":null,"distinct_id":"u","event":"e","data":"{}"})", DeadLetterReason::empty_uuid},
        {R"({"uuid":"not-a-uuid","distinct_id":"u","event":"e","data":"{}"})", DeadLetterReason::invalid_uuid},
        {R"({"uuid":12,"distinct_id":"u","event":"e","data":"{}"})", DeadLetterReason::invalid_uuid},
    };
    for (const Case& c : cases) {
        CAPTURE(c.value);
        Harness h;
        Input in;
        in.value = c.value;
        in.headers = {{"token", "phc_public_acme"}};
        const auto& r = h.run_one(in);
        REQUIRE(r.outcomes.size() == 1);
        CHECK(r.outcomes[0].dead_letter == c.reason);
        CHECK(r.records.size() == 1);
    }
    Harness h;
    Input no_value;
    no_value.has_value = false;
    no_value.headers = {{"token", "phc_public_acme"}};
    CHECK(h.run_one(no_value).outcomes[0].dead_letter == DeadLetterReason::failed_parse_message);
}

TEST_CASE("unauthenticated garbage is dropped, not dead-lettered; headerless garbage is dead-lettered") {
    Harness h;
    Input unknown_garbage;
    unknown_garbage.value = "{{{";
    unknown_garbage.headers = {{"token", "phc_unknown"}};
    Input headerless_garbage;
    headerless_garbage.value = "{{{";
    const auto& r = h.run({unknown_garbage, headerless_garbage});
    CHECK(r.outcomes[0].drop == DropCause::invalid_token);
    CHECK(r.outcomes[1].dead_letter == DeadLetterReason::failed_parse_message);
}

TEST_CASE("deep nesting and very large messages are bounded") {
    Harness h;
    std::string deep = std::string(100000, '[') + std::string(100000, ']');
    Input in;
    in.headers = {{"token", "phc_public_acme"}};
    in.value =
        R"({"uuid":"01900a3c-8f1e-7a2b-9c3d-4e5f60718293","distinct_id":"u","event":"e","data":{"properties":{"deep":)" +
        deep + "}}}";
    CHECK(h.run_one(in).outcomes[0].dead_letter == DeadLetterReason::failed_parse_message);

    std::string ok_depth = std::string(50, '[') + std::string(50, ']');
    in.value =
        R"({"uuid":"01900a3c-8f1e-7a2b-9c3d-4e5f60718293","distinct_id":"u","event":"e","data":{"properties":{"deep":)" +
        ok_depth + "}}}";
    CHECK(h.run_one(in).outcomes[0].record_count == 1);

    Harness small(CoreLimits{.max_message_bytes = 2000, .max_json_depth = 64});
    in.value = test::capture_value("phc_public_acme", R"({"event":"e","distinct_id":"u","properties":{"blob":")" +
                                                          std::string(3000, 'x') + "\"}}");
    CHECK(small.run_one(in).outcomes[0].dead_letter == DeadLetterReason::message_too_large);
    // Input under the limit whose output grows past it (escaping) is dead-lettered too.
    in.value = test::capture_value("phc_public_acme", R"({"event":"e","distinct_id":"u","properties":{"blob":")" +
                                                          std::string(1200, 'x') + "\"}}");
    CHECK(in.value.size() < 2000);
    CHECK(small.run_one(in).outcomes[0].record_count == 1);
}

TEST_CASE("routing: $exception, $$heatmap and everything else") {
    Harness h;
    const auto& r =
        h.run({test::event_with("phc_public_acme", R"({"event":"$exception","distinct_id":"u"})"),
               test::event_with("phc_public_acme",
                                R"({"event":"$$heatmap","distinct_id":"u","properties":{"$heatmap_data":{}}})"),
               test::event_with("phc_public_acme", R"({"event":"custom","distinct_id":"u"})")});
    REQUIRE(r.records.size() == 3);
    CHECK(r.records[0].destination == Destination::error_tracking);
    CHECK(r.records[1].destination == Destination::heatmaps);
    CHECK(r.records[2].destination == Destination::analytics);
}

TEST_CASE("scratch memory reuse: the same nested message renders the same every time") {
    Harness h;
    const std::string data =
        R"({"event":"e","distinct_id":"u","properties":{"a":{"b":{"c":[1,{"d":"x"}]}},"e":[{"f":{}}],"g":"h"}})";
    std::vector<Input> inputs(50, test::event_with("phc_public_acme", data));
    inputs[10] = test::event_with("phs_secret_acme", R"({"event":"big","distinct_id":"u","properties":{"blob":")" +
                                                         std::string(200000, 'y') + "\"}}");
    const auto& r = h.run(inputs);
    REQUIRE(r.records.size() == 50);
    for (size_t i = 1; i < 50; ++i) {
        if (i == 10) continue;
        CHECK(*r.records[i].value == *r.records[0].value);
    }
    auto d = test::parse(r.records[0].value);
    CHECK(std::string(d["properties"]["a"]["b"]["c"][1]["d"].GetString()) == "x");
    CHECK(std::string(d["properties"]["g"].GetString()) == "h");
}

TEST_CASE("summary: outputs sharing a topic are counted once under it") {
    OutcomeCounters counters;
    counters.produced[static_cast<size_t>(Destination::analytics)] = 5;
    counters.produced[static_cast<size_t>(Destination::error_tracking)] = 2;
    counters.produced[static_cast<size_t>(Destination::heatmaps)] = 1;
    TopicNames topics;
    topics.error_tracking = topics.analytics;
    const std::string summary = counters.summary_json(topics);
    CHECK(summary.find(R"("produced":{"events_analytics":7,"events_heatmaps":1})") != std::string::npos);
}

TEST_CASE("values without a token header: parsed once for the token and kept, within a memory budget") {
    // A batch whose header-less values pass the bytes the processor keeps parsed (16 MiB): those
    // past it are parsed again when processed. Either way each message comes out exactly as it
    // does alone.
    const std::string big(600'000, 'x');
    std::vector<Input> batch;
    for (int i = 0; i < 40; ++i) {
        const char* token = i % 3 == 0 ? "phs_secret_acme" : i % 3 == 1 ? "phc_public_beta" : "phc_public_acme";
        const std::string data = std::string(R"({"event":"e)") + std::to_string(i) +
                                 R"(","distinct_id":"d","properties":{"$verified":true,"big":")" + big + R"("}})";
        Input in = test::event_with(token, data);
        if (i % 4 != 3) in.headers.erase(in.headers.begin());  // no token header: from the value
        if (i == 17) in.value = "{broken";
        batch.push_back(in);
    }
    Harness together;
    const BatchResult& all = together.run(batch);
    REQUIRE(all.outcomes.size() == batch.size());
    for (size_t i = 0; i < batch.size(); ++i) {
        CAPTURE(i);
        Harness alone;
        const BatchResult& one = alone.run_one(batch[i]);
        const MessageOutcome& a = all.outcomes[i];
        const MessageOutcome& b = one.outcomes[0];
        CHECK(a.drop == b.drop);
        CHECK(a.dead_letter == b.dead_letter);
        CHECK(a.verification == b.verification);
        REQUIRE(a.record_count == b.record_count);
        for (uint32_t r = 0; r < a.record_count; ++r) {
            CHECK(all.records[a.first_record + r].value == one.records[b.first_record + r].value);
            CHECK(all.records[a.first_record + r].key == one.records[b.first_record + r].key);
        }
    }
    CHECK(all.outcomes[0].verification == Verification::verified);
    CHECK(all.outcomes[2].verification == Verification::stripped);
    CHECK(all.outcomes[17].dead_letter == DeadLetterReason::failed_parse_message);
    CHECK(all.outcomes[36].verification == Verification::verified);  // past the budget, parsed again
}

TEST_CASE("records reused from an earlier batch carry nothing of it") {
    Harness h;
    // Big outputs first, with a key and many headers: their records are kept for reuse.
    std::vector<Input> first;
    for (int i = 0; i < 8; ++i) {
        Input in = test::event_with("phc_public_acme", page);
        for (int k = 0; k < 6; ++k) in.headers.emplace_back("x-extra-" + std::to_string(k), std::string(40, 'v'));
        first.push_back(in);
    }
    REQUIRE(h.run(first).records.size() == 8);

    // Then a keyless message to dead-letter, and a plain event.
    Input keyless;
    keyless.value = "{not json";
    keyless.headers = {{"token", "phc_public_acme"}};
    Input plain = test::event_with("phc_public_acme", page);
    const BatchResult& second = h.run({keyless, plain});
    REQUIRE(second.records.size() == 2);
    const OutputRecord& dead = second.records[0];
    CHECK(dead.destination == Destination::dead_letter);
    CHECK_FALSE(dead.key.has_value());
    CHECK(dead.value == std::optional<std::string>("{not json"));
    CHECK(test::header_count(dead, "x-extra-0") == 0);
    const OutputRecord& out = second.records[1];
    CHECK(out.key == std::optional<std::string>("2:user-42"));
    CHECK(out.headers.size() == 3);  // distinct_id, team_id, verified and nothing left over
    CHECK(test::header_count(out, "x-extra-0") == 0);
    const rapidjson::Document event = test::parse(out.value);
    CHECK(std::string(event["distinct_id"].GetString()) == "user-42");
}
