#include "token_classification.hpp"

namespace warden::token {

namespace {

bool is_printable(std::string_view token) {
    if (token.empty() || token.size() > max_length) return false;
    for (char c : token) {
        if (c < 0x21 || c > 0x7E) return false;
    }
    return true;
}

}  // namespace

bool is_acceptable(std::string_view token) { return is_printable(token) && !token.starts_with("phx_"); }

TokenLookup classify(std::string_view token) {
    if (!is_printable(token)) return {TokenStatus::invalid, {}};
    // A personal key is refused without a lookup; it is kept only for the audit's fingerprint.
    if (token.starts_with("phx_")) return {TokenStatus::invalid, std::string(token), true};
    return {TokenStatus::candidate, std::string(token)};
}

TokenLookup classify_value_field(const json::Value* outer) {
    if (!outer) return {TokenStatus::unreadable, {}};
    const json::Value* token = json::find_last(*outer, "token");
    if (!token || token->IsNull() || (token->IsString() && token->GetStringLength() == 0)) {
        return {TokenStatus::missing, {}};
    }
    if (!token->IsString()) return {TokenStatus::invalid, {}};
    return classify(json::view(*token));
}

}  // namespace warden::token
