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

constexpr StripPlaces in_event = strip_place(StripPlace::event);
constexpr StripPlaces in_properties = strip_place(StripPlace::properties);
constexpr StripPlaces in_person_properties = strip_place(StripPlace::person_properties);

// The places of a `properties` object's `$verified` members: its own, and those of its person
// property updates.
StripPlaces properties_places(const json::Value& properties) {
    if (!properties.IsObject()) return 0;
    StripPlaces places = 0;
    for (auto m = properties.MemberBegin(); m != properties.MemberEnd(); ++m) {
        const std::string_view name = json::view(m->name);
        if (names::is_verified(name)) {
            places |= in_properties;
            continue;
        }
        const bool person =
            names::reads_as(name, "$set") || names::reads_as(name, "$set_once") || names::reads_as(name, "$unset");
        if (person && holds_verified(m->value)) places |= in_person_properties;
    }
    return places;
}

// Every member of an event object (duplicates and disguises included, each in its own place) that
// could carry one.
StripPlaces event_places(const json::Value& object) {
    StripPlaces places = 0;
    for (auto m = object.MemberBegin(); m != object.MemberEnd(); ++m) {
        const std::string_view name = json::view(m->name);
        if (names::is_verified(name)) {
            places |= in_event;
        } else if (names::reads_as(name, "properties")) {
            places |= properties_places(m->value);
        } else if ((names::reads_as(name, "$set") || names::reads_as(name, "$set_once")) && holds_verified(m->value)) {
            places |= in_person_properties;
        }
    }
    return places;
}

// A `data` the merge did not use, as a reader taking another duplicate would decode it.
bool shadowed_data_holds_verified(const json::Value& data, unsigned max_depth) {
    if (data.IsObject()) return event_places(data) != 0;
    if (!data.IsString()) return false;
    std::string text(json::view(data));
    json::Allocator allocator;
    json::Document doc(&allocator);
    return json::parse_in_place(text.data(), text.size(), doc, max_depth) && doc.IsObject() && event_places(doc) != 0;
}

}  // namespace

bool Team::is_secret(const TokenDigest& token) const {
    bool secret = false;
    for_each_token([&](const TokenDigest& owned, Credential credential) {
        secret = secret || (verifies(credential) && owned == token);
    });
    return secret;
}

VerificationResult verify(const DecodedEvent& event, Credential credential, unsigned max_depth) {
    if (verifies(credential)) return {Verification::verified, 0};
    const StripPlaces places = client_verified_places(event, max_depth);
    return {places != 0 ? Verification::stripped : Verification::none, places};
}

StripPlaces client_verified_places(const DecodedEvent& event, unsigned max_depth) {
    StripPlaces places = event_places(*event.outer);
    places |= event_places(*event.data);
    for (auto m = event.outer->MemberBegin(); m != event.outer->MemberEnd(); ++m) {
        if (&m->value == event.data_member || !names::reads_as(json::view(m->name), "data")) continue;
        // Parsing one shadowed copy is enough to know the place.
        if (shadowed_data_holds_verified(m->value, max_depth)) {
            places |= strip_place(StripPlace::shadowed);
            break;
        }
    }
    return places;
}

bool has_client_verified(const DecodedEvent& event, unsigned max_depth) {
    return client_verified_places(event, max_depth) != 0;
}

}  // namespace warden
