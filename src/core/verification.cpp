#include "verification.hpp"

#include "reserved_names.hpp"

#include <string>

namespace warden {
namespace {

// A `$verified` key of an object, or a `$verified` element of an array ($unset's two forms).
bool holds_verified(const json::Value& v) {
    if (v.IsObject()) {
        for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m) {
            if (names::is_verified(json::view(m->name))) return true;
        }
    } else if (v.IsArray()) {
        for (const auto& e : v.GetArray()) {
            if (e.IsString() && names::is_verified(json::view(e))) return true;
        }
    }
    return false;
}

bool properties_hold_verified(const json::Value& properties) {
    if (!properties.IsObject()) return false;
    for (auto m = properties.MemberBegin(); m != properties.MemberEnd(); ++m) {
        const std::string_view name = json::view(m->name);
        if (names::is_verified(name)) return true;
        const bool person =
            names::reads_as(name, "$set") || names::reads_as(name, "$set_once") || names::reads_as(name, "$unset");
        if (person && holds_verified(m->value)) return true;
    }
    return false;
}

// Every member of an event object (duplicates and disguises included) that could carry it.
bool event_holds_verified(const json::Value& object) {
    for (auto m = object.MemberBegin(); m != object.MemberEnd(); ++m) {
        const std::string_view name = json::view(m->name);
        if (names::is_verified(name)) return true;
        if (names::reads_as(name, "properties") && properties_hold_verified(m->value)) return true;
        if ((names::reads_as(name, "$set") || names::reads_as(name, "$set_once")) && holds_verified(m->value))
            return true;
    }
    return false;
}

// A `data` the merge did not use, as a reader taking another duplicate would decode it.
bool shadowed_data_holds_verified(const json::Value& data, unsigned max_depth) {
    if (data.IsObject()) return event_holds_verified(data);
    if (!data.IsString()) return false;
    std::string text(json::view(data));
    json::Allocator allocator;
    json::Document doc(&allocator);
    return json::parse_in_place(text.data(), text.size(), doc, max_depth) && doc.IsObject() &&
           event_holds_verified(doc);
}

}  // namespace

bool Team::is_secret(std::string_view token) const {
    if (token == api_token) return false;  // a secret that is also the public token proves nothing
    return (secret_api_token && *secret_api_token == token) ||
           (secret_api_token_backup && *secret_api_token_backup == token);
}

Verification verify(const DecodedEvent& event, const Team& team, std::string_view token, unsigned max_depth) {
    if (team.is_secret(token)) return Verification::verified;
    return has_client_verified(event, max_depth) ? Verification::stripped : Verification::none;
}

bool has_client_verified(const DecodedEvent& event, unsigned max_depth) {
    if (event_holds_verified(*event.outer) || event_holds_verified(*event.data)) return true;
    for (auto m = event.outer->MemberBegin(); m != event.outer->MemberEnd(); ++m) {
        if (&m->value == event.data_member || !names::reads_as(json::view(m->name), "data")) continue;
        if (shadowed_data_holds_verified(m->value, max_depth)) return true;
    }
    return false;
}

}  // namespace warden
