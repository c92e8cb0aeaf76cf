#include "token.hpp"

namespace warden::token {

bool is_acceptable(std::string_view token) {
    if (token.empty() || token.size() > max_length) return false;
    for (char c : token) {
        if (c < 0x21 || c > 0x7E) return false;
    }
    return !token.starts_with("phx_");
}

}  // namespace warden::token
