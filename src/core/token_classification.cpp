#include "token_classification.hpp"

namespace warden::token {

bool is_acceptable(std::string_view token) {
    if (token.empty() || token.size() > max_length) return false;
    for (char c : token) {
        if (c < 0x21 || c > 0x7E) return false;
    }
    return !token.starts_with("phx_");
}

TokenLookup classify(std::string_view token) {
    if (!is_acceptable(token)) return {TokenStatus::invalid, {}};
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
