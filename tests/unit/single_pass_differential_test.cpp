// The single-pass renderer against the DOM path (CoreLimits::single_pass on and off): the sample
// stream, hand-written edge cases under every token kind and placement and both size limits, and
// seeded random capture values must come out the same (single_pass_differential.hpp says what
// "the same" is; differential_corpus.hpp builds the messages). The comparison itself is checked
// first, on results made to differ.
#include "differential_corpus.hpp"
#include "single_pass_differential.hpp"
#include "test_teams.hpp"

#include <warden/files.hpp>

#include <doctest/doctest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

using namespace test::corpus;
using test::differential::TwinPipelines;

namespace {

constexpr size_t small_limit = 2048;

// The twins of both size limits over the test teams; fails the test case with what differs.
class Runner {
public:
    explicit Runner(const std::string& teams_json = test::teams_json, const warden::QuotaSource* quota = nullptr)
        : store_(warden::FileTeamStore::from_json(teams_json, "test")),
          normal_(*store_, warden::CoreLimits{}, quota),
          small_(*store_, warden::CoreLimits{small_limit, 64}, quota) {}

    TwinPipelines& normal() { return normal_; }
    TwinPipelines& small() { return small_; }

    // Runs `messages` through `twins` as one batch; `labels` name them in a failure.
    void run(TwinPipelines& twins, const std::vector<warden::OwnedMessage>& messages,
             const std::vector<std::string>& labels) {
        std::vector<std::vector<warden::HeaderView>> header_storage(messages.size());
        std::vector<warden::MessageView> views;
        views.reserve(messages.size());
        for (size_t i = 0; i < messages.size(); ++i) views.push_back(messages[i].view(header_storage[i]));
        const std::string difference = twins.run(views);
        compared_ += messages.size();
        if (difference.empty()) return;
        if (++failures_ > 5) return;  // enough to go on; the count is checked at the end
        std::string names;
        for (size_t i = 0; i < labels.size(); ++i) names += "  message " + std::to_string(i) + ": " + labels[i] + "\n";
        FAIL_CHECK("size limit " << twins.limit() << ", the paths differ:\n" << difference << "batch:\n" << names);
    }

    // Every variant and placement of `c`, through both size limits.
    void run_case(const Case& c) {
        std::vector<warden::OwnedMessage> messages;
        std::vector<std::string> labels;
        for (const Variant& v : variants) {
            for (const Placement p :
                 {Placement{true, false}, Placement{false, false}, Placement{true, true}, Placement{false, true}}) {
                messages.push_back(message_of(c, v, p, static_cast<int64_t>(100 + messages.size())));
                labels.push_back(label_of(c, v, p));
            }
        }
        run(normal_, messages, labels);
        run(small_, messages, labels);
    }

    size_t compared() const { return compared_; }
    size_t failures() const { return failures_; }

private:
    std::unique_ptr<warden::FileTeamStore> store_;
    TwinPipelines normal_;
    TwinPipelines small_;
    size_t compared_ = 0;
    size_t failures_ = 0;
};

// ---- the comparison checked on results made to differ ----

// A one-message batch and two results to compare; `b` starts as a copy of `a`.
struct MadeUp {
    warden::HeaderList input_headers;
    std::vector<warden::HeaderView> input_views;
    warden::MessageView input;
    warden::BatchResult a, b;

    explicit MadeUp(std::string value, const std::vector<std::pair<warden::Destination, std::string>>& records) {
        input_headers.add("token", "phc_public_acme");
        input_views = input_headers.views();
        input.topic = "events_plugin_ingestion";
        input.headers = input_views;
        input_value = std::move(value);
        input.value = input_value;
        warden::MessageOutcome outcome;
        outcome.record_count = static_cast<uint32_t>(records.size());
        for (const auto& [destination, text] : records) {
            warden::OutputRecord& r = a.records.emplace_back();
            r.destination = destination;
            r.key = "2:user-42";
            r.headers.add("distinct_id", "user-42");
            r.headers.add("team_id", "2");
            r.headers.add("verified", "false");
            r.value = text;
        }
        a.outcomes.push_back(outcome);
        b = a;
    }

    std::string differences(size_t limit = 1'000'000) {
        return test::differential::describe_differences({&input, 1}, a, b, limit);
    }

    std::string input_value;
};

}  // namespace

TEST_CASE("differential comparison: JSON values compare by meaning, everything else by bytes") {
    using D = warden::Destination;
    SUBCASE("the same numbers written otherwise, members in another order: no difference") {
        MadeUp m("{}",
                 {{D::analytics,
                   R"({"a":1.5,"b":100000.0,"c":0,"d":1.2345678901234568e29,"e":"\u00e9/","f":[1,{"x":1,"y":2}]})"}});
        m.b.records[0].value =
            R"({"f":[1,{"y":2,"x":1}],"e":"é\/","d":123456789012345678901234567890,"c":-0,"b":1e5,"a":1.50})";
        CHECK(m.differences().empty());
    }
    SUBCASE("another value: the difference names the path and shows the input and both outputs") {
        MadeUp m(R"({"the":"input"})", {{D::analytics, R"({"properties":{"$set":{"a":1}}})"}});
        m.b.records[0].value = R"({"properties":{"$set":{"a":2}}})";
        const std::string d = m.differences();
        CHECK(d.find("value.properties.$set.a") != std::string::npos);
        CHECK(d.find(R"({"the":"input"})") != std::string::npos);
        CHECK(d.find(R"({"properties":{"$set":{"a":1}}})") != std::string::npos);
        CHECK(d.find(R"({"properties":{"$set":{"a":2}}})") != std::string::npos);
    }
    SUBCASE("duplicate names in another order: first- and last-wins readers would differ") {
        MadeUp m("{}", {{D::analytics, R"({"a":1,"a":2})"}});
        m.b.records[0].value = R"({"a":2,"a":1})";
        CHECK_FALSE(m.differences().empty());
        m.b.records[0].value = R"({"a":1,"a":2})";
        CHECK(m.differences().empty());
    }
    SUBCASE("a missing member, an integer against a string, a NUL inside a name") {
        MadeUp m("{}", {{D::analytics, R"({"a":1,"b":2})"}});
        m.b.records[0].value = R"({"a":1})";
        CHECK_FALSE(m.differences().empty());
        m.b.records[0].value = R"({"a":1,"b":"2"})";
        CHECK_FALSE(m.differences().empty());
        m.a.records[0].value = R"({"a\u0000x":1})";
        m.b.records[0].value = R"({"a":1})";
        CHECK_FALSE(m.differences().empty());
    }
    SUBCASE("numbers: the same double written otherwise agrees, the next double does not") {
        MadeUp m("{}", {{D::analytics, R"({"a":0.30000000000000004,"b":3e109,"c":-0.0})"}});
        m.b.records[0].value = R"({"a":0.300000000000000044,"b":3.0e+109,"c":-0.0})";
        CHECK(m.differences().empty());
        m.b.records[0].value = R"({"a":0.3,"b":3e109,"c":-0.0})";  // one unit in the last place
        CHECK_FALSE(m.differences().empty());
        m.b.records[0].value = R"({"a":0.30000000000000004,"b":2.9999999999999999e109,"c":-0.0})";
        CHECK_FALSE(m.differences().empty());
        m.b.records[0].value = R"({"a":0.30000000000000004,"b":3e109,"c":0.0})";
        CHECK_FALSE(m.differences().empty());
        m.b.records[0].value = R"({"a":0.30001,"b":3e109,"c":-0.0})";
        CHECK_FALSE(m.differences().empty());
        m.a.records[0].value = R"({"a":9223372036854775807})";
        m.b.records[0].value = R"({"a":9223372036854775806})";
        CHECK_FALSE(m.differences().empty());
        m.a.records[0].value = R"({"a":-1})";
        m.b.records[0].value = R"({"a":18446744073709551615})";
        CHECK_FALSE(m.differences().empty());
    }
    SUBCASE("invalid UTF-8 or trailing bytes in one value only") {
        MadeUp m("{}", {{D::analytics, R"({"a":"\u00e9"})"}});
        m.b.records[0].value = "{\"a\":\"\xc3\"}";
        CHECK(m.differences().find("not valid UTF-8 JSON") != std::string::npos);
        m.b.records[0].value = R"({"a":"\u00e9"} x)";
        CHECK_FALSE(m.differences().empty());
    }
    SUBCASE("the same value that is not JSON on both sides") {
        MadeUp m("{}", {{D::analytics, R"({"x":})"}});
        CHECK(m.differences().find("neither value is valid UTF-8 JSON") != std::string::npos);
    }
    SUBCASE("keys, header names, header values, header order, a null header value, destinations") {
        MadeUp m("{}", {{D::analytics, "{}"}});
        m.b.records[0].key = "2:user-43";
        CHECK(m.differences().find("keys differ") != std::string::npos);
        m.b = m.a;
        m.b.records[0].headers.clear();
        m.b.records[0].headers.add("team_id", "2");
        m.b.records[0].headers.add("distinct_id", "user-42");
        m.b.records[0].headers.add("verified", "false");
        CHECK(m.differences().find("header 0 differs") != std::string::npos);
        m.b = m.a;
        m.b.records[0].headers.clear();
        m.b.records[0].headers.add("distinct_id", std::nullopt);
        m.b.records[0].headers.add("team_id", "2");
        m.b.records[0].headers.add("verified", "false");
        CHECK_FALSE(m.differences().empty());
        m.b = m.a;
        m.b.records[0].destination = D::error_tracking;
        CHECK(m.differences().find("destinations differ") != std::string::npos);
    }
    SUBCASE("outcomes: drop, dead letter, verification, strip places, redaction, record count") {
        MadeUp m("{}", {{D::analytics, "{}"}});
        m.b.outcomes[0].drop = warden::DropCause::heatmap_opt_in_disabled;
        CHECK(m.differences().find("outcomes differ") != std::string::npos);
        m.b = m.a;
        m.b.outcomes[0].verification = warden::Verification::stripped;
        CHECK_FALSE(m.differences().empty());
        // Both stripped, from different places.
        m.a.outcomes[0].verification = warden::Verification::stripped;
        m.a.outcomes[0].stripped_from = warden::strip_place(warden::StripPlace::properties);
        m.b.outcomes[0].stripped_from = warden::strip_place(warden::StripPlace::properties);
        CHECK(m.differences().empty());
        m.b.outcomes[0].stripped_from |= warden::strip_place(warden::StripPlace::person_properties);
        const std::string places = m.differences();
        CHECK(places.find("outcomes differ") != std::string::npos);
        CHECK(places.find("stripped_from=2") != std::string::npos);
        CHECK(places.find("stripped_from=6") != std::string::npos);
        m.a.outcomes[0].verification = warden::Verification::none;
        m.a.outcomes[0].stripped_from = 0;
        m.b = m.a;
        m.b.outcomes[0].secret_redacted = true;
        CHECK_FALSE(m.differences().empty());
        m.b = m.a;
        m.b.records.push_back(m.b.records[0]);
        m.b.outcomes[0].record_count = 2;
        CHECK_FALSE(m.differences().empty());
        m.b = m.a;
        m.b.outcomes.push_back(m.b.outcomes[0]);
        CHECK(m.differences().find("outcome counts differ") != std::string::npos);
    }
    SUBCASE("dead letters compare byte for byte") {
        MadeUp m(R"({"a":1.50})", {{D::dead_letter, R"({"a":1.50})"}});
        m.a.outcomes[0].dead_letter = m.b.outcomes[0].dead_letter = warden::DeadLetterReason::invalid_uuid;
        m.b.records[0].value = R"({"a":1.5})";
        CHECK(m.differences().find("byte-identical") != std::string::npos);
    }
    SUBCASE("a size-limit flip counts only where the emitted text explains it") {
        const std::string big(1500, 'x');
        MadeUp m("{\"f\":\"" + big + "\"}", {{D::analytics, "{\"f\":\"" + big + "\",\"n\":1.5}"}});
        // The single-pass side dead-lettered what the DOM path emitted within the input's length of the limit.
        m.b.records[0].destination = D::dead_letter;
        m.b.outcomes[0].dead_letter = warden::DeadLetterReason::message_too_large;
        size_t flips = 0;
        CHECK(test::differential::describe_differences({&m.input, 1}, m.a, m.b, 2048, &flips).empty());
        CHECK(flips == 1);
        CHECK_FALSE(m.differences(1'000'000).empty());  // far from the limit: a difference
        // The DOM path dead-lettered what the single-pass side emitted: only if, printed as the DOM
        // path prints (1e5 as 100000.0), it would not fit.
        std::swap(m.a, m.b);
        m.b.records[0].value = "{\"f\":\"" + big + "\",\"n\":1e5}";
        const size_t emitted = warden::record_wire_size(m.b.records[0]);
        CHECK(m.differences(emitted).empty());
        CHECK_FALSE(m.differences(emitted + 5).empty());
    }
}

TEST_CASE("differential: the sample stream (samples/events.jsonl), token in the header and only in the value") {
    std::ifstream teams_file(std::string(WARDEN_SOURCE_ROOT) + "/samples/teams.json");
    std::ifstream events(std::string(WARDEN_SOURCE_ROOT) + "/samples/events.jsonl");
    REQUIRE(teams_file);
    REQUIRE(events);
    const std::string teams((std::istreambuf_iterator<char>(teams_file)), std::istreambuf_iterator<char>());
    Runner runner(teams);
    std::vector<warden::OwnedMessage> messages;
    std::vector<std::string> labels;
    std::string line;
    for (int64_t n = 0; std::getline(events, line); ++n) {
        if (line.empty()) continue;
        messages.push_back(warden::parse_input_line(line, n));
        labels.push_back("samples/events.jsonl line " + std::to_string(n + 1));
        // The same without its token header.
        warden::OwnedMessage copy = warden::parse_input_line(line, n);
        warden::HeaderList kept;
        for (size_t i = 0; i < copy.headers.size(); ++i) {
            if (copy.headers[i].name != "token") kept.add(copy.headers[i].name, copy.headers[i].value);
        }
        copy.headers = kept;
        messages.push_back(std::move(copy));
        labels.push_back(labels.back() + " without its token header");
    }
    REQUIRE(messages.size() >= 20);
    runner.run(runner.normal(), messages, labels);
    runner.run(runner.small(), messages, labels);
    CHECK(runner.failures() == 0);
    const warden::OutcomeCounters& c = runner.normal().reference_counters();
    CHECK(c.verified > 0);
    CHECK(c.stripped > 0);
    CHECK(c.produced[static_cast<size_t>(warden::Destination::heatmaps)] > 0);
    CHECK(c.produced[static_cast<size_t>(warden::Destination::error_tracking)] > 0);
}

TEST_CASE("differential: hand-written edge cases, every token kind and placement, both size limits") {
    const warden::FixedQuotaSource quota(test::differential::acme_exceptions_quota());
    Runner runner(test::teams_json, &quota);
    const std::vector<Case> cases = hand_written_cases();
    for (const Case& c : cases) runner.run_case(c);
    CHECK(runner.failures() == 0);
    CHECK(runner.compared() == cases.size() * std::size(variants) * 4 * 2);
    // The corpus reaches every outcome, so agreement means something.
    const warden::OutcomeCounters& c = runner.normal().reference_counters();
    const warden::OutcomeCounters& s = runner.small().reference_counters();
    CHECK(c.verified > 0);
    CHECK(c.stripped > 0);
    CHECK(c.redacted > 0);
    for (const auto produced : c.produced) CHECK(produced > 0);
    for (const auto dropped : c.dropped) CHECK(dropped > 0);
    for (size_t r = 0; r < warden::dead_letter_reason_count; ++r) CHECK(c.dead_letters[r] + s.dead_letters[r] > 0);
    CHECK(s.produced[static_cast<size_t>(warden::Destination::analytics)] > 0);
    CHECK(s.dead_letters[static_cast<size_t>(warden::DeadLetterReason::message_too_large)] > 0);
}

TEST_CASE("differential: seeded random capture values") {
    Runner runner;
    constexpr size_t count = 4000, batch = 50;
    std::vector<warden::OwnedMessage> normal, small;
    std::vector<std::string> normal_labels, small_labels;
    auto flush = [&](bool last) {
        if (normal.size() >= batch || (last && !normal.empty())) {
            runner.run(runner.normal(), normal, normal_labels);
            normal.clear();
            normal_labels.clear();
        }
        if (small.size() >= batch || (last && !small.empty())) {
            runner.run(runner.small(), small, small_labels);
            small.clear();
            small_labels.clear();
        }
    };
    int64_t offset = 0;
    for (const RandomMessage& m : random_messages(0x5eed'd1ffULL, count)) {
        (m.small_limit ? small : normal).push_back(message_of(m.c, *m.variant, m.placement, offset++));
        (m.small_limit ? small_labels : normal_labels).push_back(label_of(m.c, *m.variant, m.placement));
        flush(false);
    }
    flush(true);
    CHECK(runner.failures() == 0);
    CHECK(runner.compared() == count);
    // Most values sent with a credential that is not refused reach the renderer rather than a dead
    // letter or a drop.
    const warden::OutcomeCounters& c = runner.normal().reference_counters();
    using D = warden::Destination;
    const auto produced = [&](D d) { return c.produced[static_cast<size_t>(d)]; };
    const uint64_t refused = c.dropped[static_cast<size_t>(warden::DropCause::insufficient_scope)];
    CHECK(refused > 0);
    CHECK(produced(D::analytics) + produced(D::error_tracking) + produced(D::heatmaps) > (c.consumed - refused) / 2);
    CHECK(c.verified > 0);
    CHECK(c.stripped > 0);
    CHECK(c.redacted > 0);
    CHECK(produced(D::heatmaps) > 0);
}

TEST_CASE("differential: a batch of large values, half without a token header, past what find_token keeps parsed") {
    // 24 values of ~800 kB: past the 16 MiB find_token keeps parsed per batch, the last values
    // without a token header are parsed again when processed.
    constexpr size_t count = 24;
    Runner runner;
    std::vector<warden::OwnedMessage> messages;
    std::vector<std::string> labels;
    for (size_t i = 0; i < count; ++i) {
        std::string blob;
        blob.reserve(620'000);
        blob += "[";
        const char* const letter = i / 2 % 2 ? "\xc3\xa9" : "\\u00e9";  // only the first in the common shape
        for (size_t j = 0; blob.size() < 600'000; ++j)
            blob += cat(j ? ",\"" : "\"", std::to_string(i * j), letter, "\"");
        blob += "]";
        const Case c{
            "large value " + std::to_string(i),
            capture(with_props(R"({"$verified":true,"blob":)" + blob + "}", i % 3 ? "$pageview" : "$exception")),
            {}};
        const Variant& v = variants[i % std::size(variants)];
        messages.push_back(message_of(c, v, {i % 2 == 1, false}, static_cast<int64_t>(i)));
        labels.push_back(label_of(c, v, {i % 2 == 1, false}));
    }
    size_t bytes = 0;
    for (const auto& m : messages) bytes += m.value->size();
    REQUIRE(bytes > size_t{16} << 20);
    runner.run(runner.normal(), messages, labels);
    CHECK(runner.failures() == 0);
    const warden::OutcomeCounters& c = runner.normal().reference_counters();
    const uint64_t refused = c.dropped[static_cast<size_t>(warden::DropCause::insufficient_scope)];
    CHECK(refused == count / std::size(variants));  // the variant of a key without the scope
    CHECK(c.produced[static_cast<size_t>(warden::Destination::analytics)] +
              c.produced[static_cast<size_t>(warden::Destination::error_tracking)] ==
          count - refused);
}
