// The header screen lets a text through without repair or redaction only when it needs neither:
// checked against the slow path it stands in front of, on hand-picked and random texts.
#include <doctest/doctest.h>

#include "secret_redaction.hpp"
#include "utf8.hpp"

#include <random>
#include <string>
#include <vector>

using namespace warden;

namespace {

Team team(std::optional<std::string> secret, std::optional<std::string> backup) {
    Team t;
    t.id = 2;
    t.api_token = "phc_public";
    t.secret_api_token = std::move(secret);
    t.secret_api_token_backup = std::move(backup);
    return t;
}

// What the screen stands in for: the text needs UTF-8 repair or holds a secret.
bool needs_work(std::string_view text, const Team& t) {
    return !utf8::is_valid(text) || secrets::appears_in_text(text, t);
}

}  // namespace

TEST_CASE("header screen: plain texts pass, and each kind of trouble is stopped") {
    const Team t = team("phs_secret", "tab\there");  // a key-shaped secret and one of another shape
    const secrets::TextScreen screen(t);
    for (std::string_view plain : {"", "uuid", "distinct_id", "01900a3c-8f1e-7a2b-9c3d-4e5f60718293", "$pageview",
                                   "1733299200000", "phc_public", "ph", "phs", "phs-not-a-key", "shp_", "ph_s_"}) {
        INFO(plain);
        CHECK(screen.passes(plain));
    }
    const std::vector<std::string> stopped = {
        "phs_secret", "phs_other", "x-phx_personal", "tab\there", "...tab\there...",
        "caf\xc3\xa9",  // valid UTF-8, but not ASCII: the slow path decides
        "bad\xff", "phs_",
        // a prefix at each place around the eight-byte words the screen reads
        "1234567phs_a", "12345678phs_a", "123456phs_a", "1234567890123phs_a", "123456789012345phx_a"};
    for (const std::string& text : stopped) {
        INFO(text);
        CHECK_FALSE(screen.passes(text));
    }
}

TEST_CASE("header screen: nothing it passes needs repair or redaction (random texts)") {
    const std::vector<Team> teams = {team("phs_secret", "phs_backup"), team("tab\there", std::nullopt),
                                     team(std::nullopt, "nl\nq\"uote"), team(std::nullopt, std::nullopt)};
    // Few letters, so that prefixes, secrets and their near misses come up often.
    const std::vector<std::string> pieces = {"p",    "h",  "s",         "x",   "_",          "a",    "1",
                                             " ",    "\t", "\n",        "\"",  "\xc3\xa9",   "\xff", "phs_",
                                             "phx_", "ph", "tab\there", "tab", "nl\nq\"uote"};
    std::mt19937 rng(20261204);
    std::uniform_int_distribution<size_t> piece(0, pieces.size() - 1), length(0, 24);
    size_t passed = 0;
    for (int i = 0; i < 200'000; ++i) {
        std::string text;
        for (size_t n = length(rng); n > 0; --n) text += pieces[piece(rng)];
        for (const Team& t : teams) {
            const secrets::TextScreen screen(t);
            if (!screen.passes(text)) continue;
            ++passed;
            INFO(text);
            REQUIRE_FALSE(needs_work(text, t));
        }
    }
    CHECK(passed > 10'000);  // the fast path is taken, not refused across the board
}
