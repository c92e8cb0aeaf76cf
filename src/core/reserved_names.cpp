#include "reserved_names.hpp"

#include <array>

namespace warden::names {
namespace {

constexpr std::array<std::string_view, 12> written_top_level = {"uuid",       "event",     "distinct_id", "team_id",
                                                                "project_id", "timestamp", "now",         "sent_at",
                                                                "properties", "token",     "ip",          "$verified"};

constexpr std::array<std::string_view, 3> copied_top_level = {"data", "$set", "$set_once"};

constexpr std::array<std::string_view, 7> special_properties = {"$set",     "$set_once", "$unset",       "$ip",
                                                                "$sent_at", "$verified", "$heatmap_data"};

// `reads_as` ignoring ASCII case: header names are matched case-insensitively by many readers.
// (ASCII by hand: std::tolower is a library call per character.)
bool reads_as_ignoring_case(std::string_view name, std::string_view reserved) {
    if (name.size() < reserved.size()) return false;
    for (size_t i = 0; i < reserved.size(); ++i) {
        const char c = name[i];
        if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != reserved[i]) return false;
    }
    return name.size() == reserved.size() || name[reserved.size()] == '\0';
}

}  // namespace

bool is_reserved_top_level(std::string_view name) {
    for (std::string_view r : written_top_level) {
        if (reads_as(name, r)) return true;
    }
    for (std::string_view r : copied_top_level) {
        if (is_alias(name, r)) return true;
    }
    return false;
}

bool is_disguised_special_property(std::string_view name) {
    for (std::string_view r : special_properties) {
        if (is_alias(name, r)) return true;
    }
    return false;
}

bool is_reserved_header(std::string_view name, bool heatmap) {
    // Every header of every output asks: most names are ruled out by their first letter.
    if (name.empty()) return false;
    const char first = static_cast<char>(name[0] | 0x20);  // ASCII lower case; other bytes match nothing below
    if (first != 't' && first != 'v' && first != 'r' && first != 'e' && first != 'u') return false;
    for (std::string_view r : {"token", "team_id", "verified", "replayed"}) {
        if (reads_as_ignoring_case(name, r)) return true;
    }
    return heatmap && (reads_as_ignoring_case(name, "event") || reads_as_ignoring_case(name, "uuid"));
}

}  // namespace warden::names
