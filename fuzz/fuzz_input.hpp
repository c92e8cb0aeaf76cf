// The input layout both fuzz targets share: byte 0 picks the token header, the team and the
// settings, the rest is the message value.
//   bits 0-1: 0 public token, 1 secret, 2 backup secret, 3 no token header (token from the value)
//   bits 2-3: team (Acme: both secrets; NoHeatmaps: secret only, heatmaps off; Beta: no secrets)
//   bit 4:    add the header skip_heatmap_processing=true
//   bit 5:    a small size limit (2 KiB), so outputs and dead letters get cut
//   bit 6:    add a header whose name and value carry another team's secret
//   bit 7:    free for a target's own use
#pragma once

#include <warden/core.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fuzz {

struct TeamTokens {
    const char* id;
    const char* tokens[3];             // public, secret, backup; unknown tokens stand in for missing secrets
    std::vector<std::string> secrets;  // as in test::teams_json
};
inline const TeamTokens team_tokens[] = {
    {"2", {"phc_public_acme", "phs_secret_acme", "phs_backup_acme"}, {"phs_secret_acme", "phs_backup_acme"}},
    {"4", {"phc_public_noheat", "phs_secret_noheat", "phs_unknown_noheat"}, {"phs_secret_noheat"}},
    // Beta's secrets are project secret API keys (test_teams.hpp): one with the ingestion scope,
    // one without, which must never verify.
    {"3",
     {"phc_public_beta", "phs_key_beta_scoped", "phs_key_beta_unscoped"},
     {"phs_key_beta_scoped", "phs_key_beta_unscoped"}},
};
inline constexpr std::string_view unscoped_key = "phs_key_beta_unscoped";

inline constexpr size_t small_limit = 2048;

// The message an input describes (size > 0); `message` points into this object.
struct FuzzMessage {
    FuzzMessage(const uint8_t* data, size_t size)
        : selector(data[0]), value(reinterpret_cast<const char*>(data + 1), size - 1) {
        const TeamTokens& team = team_tokens[((selector >> 2) & 3) % 3];
        const unsigned token_choice = selector & 3;
        if (token_choice < 3) {
            headers.add("token", team.tokens[token_choice]);
            key = std::string(team.tokens[token_choice]) + ":user-42";
        }
        headers.add("distinct_id", "user-42");
        if (selector & 0x10) headers.add("skip_heatmap_processing", "true");
        if (selector & 0x40) headers.add("x-phs_secret_noheat", "Bearer phs_backup_acme");
        header_views = headers.views();
        message.topic = "events_plugin_ingestion";
        message.offset = 7;
        message.key = key;
        message.headers = header_views;
        message.value = value;
    }
    FuzzMessage(const FuzzMessage&) = delete;
    FuzzMessage& operator=(const FuzzMessage&) = delete;

    bool small_limit_chosen() const { return selector & 0x20; }
    size_t limit() const { return small_limit_chosen() ? small_limit : warden::CoreLimits{}.max_message_bytes; }

    uint8_t selector;
    std::string value;
    std::string key = "anonymous:user-42";
    warden::HeaderList headers;
    std::vector<warden::HeaderView> header_views;
    warden::MessageView message;
};

}  // namespace fuzz
