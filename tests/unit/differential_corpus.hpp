// The messages of the differential tests (single_pass_differential_test.cpp): cases with
// placeholders for tokens, the token kinds and placements they are sent with, builders of capture
// values, the hand-written edge cases (differential_edge_cases.cpp) and seeded random capture values
// (differential_random.cpp).
#pragma once

#include <warden/files.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace test::corpus {

struct Header {
    std::string name;
    std::optional<std::string> value;
};

// A hand-written or generated case: a value (and extra headers) with placeholders for the tokens.
struct Case {
    std::string label;
    std::optional<std::string> value;  // none: a message without a value
    std::vector<Header> headers;
};

// The credential a message is sent with and the secrets a case may plant: @TOKEN@, @SECRET@ (the
// team's secret, or another team's for a team without one), @BACKUP@, @OTHER@ (another team's).
// The teams are those of test_teams.hpp.
struct Variant {
    std::string_view label;
    std::string_view token;
    std::string_view secret;
    std::string_view backup;
    std::string_view other;
};

inline constexpr Variant variants[] = {
    {"Acme public", "phc_public_acme", "phs_secret_acme", "phs_backup_acme", "phs_secret_noheat"},
    {"Acme secret", "phs_secret_acme", "phs_secret_acme", "phs_backup_acme", "phs_secret_noheat"},
    {"Acme backup secret", "phs_backup_acme", "phs_secret_acme", "phs_backup_acme", "phs_secret_noheat"},
    {"Beta public (no secrets, anonymize_ips)", "phc_public_beta", "phs_secret_acme", "phs_backup_acme",
     "phs_secret_noheat"},
    {"NoHeatmaps public", "phc_public_noheat", "phs_secret_noheat", "phs_backup_acme", "phs_secret_acme"},
    {"NoHeatmaps secret", "phs_secret_noheat", "phs_secret_noheat", "phs_backup_acme", "phs_secret_acme"},
    {"Beta project key", "phs_key_beta_scoped", "phs_key_beta_scoped", "phs_backup_acme", "phs_secret_acme"},
    {"Beta project key without the scope", "phs_key_beta_unscoped", "phs_key_beta_unscoped", "phs_backup_acme",
     "phs_secret_acme"},
};

// How a case is sent: its token in the header (and the value) or only in the value, and whether
// capture already split off the heatmap data.
struct Placement {
    bool token_header = true;
    bool skip_heatmap = false;
};

// The message of `c` sent as `v` and `p`, at input offset `offset`.
warden::OwnedMessage message_of(const Case& c, const Variant& v, Placement p, int64_t offset);

// A label naming the variant and placement after the case's.
std::string label_of(const Case& c, const Variant& v, Placement p);

// ---- building values (differential_builders.cpp) ----

// The parts one after the other (`"x" + std::string(...)` chains trip gcc 12's -Wrestrict).
template <typename... Parts>
std::string cat(const Parts&... parts) {
    std::string out;
    (out += ... += parts);
    return out;
}

std::string replace_all(std::string text, std::string_view from, std::string_view to);

// `text` as a JSON string: quotes, backslashes and control characters escaped (\n, \r and \t as
// such), other bytes kept.
std::string json_string(std::string_view text);

// A capture value whose client event `data` (JSON text) is sent as a string; `extra` adds outer
// members.
std::string capture(std::string_view data, std::string_view extra = "");

// The same with `data` as an object.
std::string capture_object(std::string_view data, std::string_view extra = "");

// Only what the outer object must hold: uuid, token and data (a string); `extra` adds members.
std::string bare(std::string_view data, std::string_view extra = "");

// A client event with these properties (JSON text).
std::string with_props(std::string_view properties, std::string_view event = "$pageview");

// `levels` nested arrays (or objects) around 1.
std::string nested(size_t levels, bool objects);

// Whitespace after every structural character and before every closing one, outside strings.
std::string spaced(std::string_view json);

// An object of `members` members named prefix0, prefix1, ... of varied values, and `last`.
std::string wide_object(size_t members, std::string_view prefix, std::string_view last = "");

// ---- the corpora ----

// Edge cases aimed at the single-pass renderer's shape and the rules of SPEC §2–§6
// (differential_edge_cases.cpp).
std::vector<Case> hand_written_cases();

// A generated case with how it is sent, and whether to the pipelines of the small size limit.
struct RandomMessage {
    Case c;
    const Variant* variant = nullptr;
    Placement placement;
    bool small_limit = false;
};

// `count` capture values from `seed`, half of the common shape (with rare departures), half hostile
// (differential_random.cpp).
std::vector<RandomMessage> random_messages(uint64_t seed, size_t count);

}  // namespace test::corpus
