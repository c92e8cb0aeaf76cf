// Verification (SPEC §4): whether an event was sent with its team's secret, so the renderer sets
// `$verified: true`, or else whether the client forged a `$verified` that the renderer strips.
#pragma once

#include "event_decoder.hpp"

#include <string_view>

namespace warden {

// The verification of an event, and where its forged `$verified` members were (see
// client_verified_places): non-zero exactly when `stripped`.
struct VerificationResult {
    Verification verification = Verification::none;
    StripPlaces stripped_from = 0;
};

// `verified` when the event was sent with a secret of its team (Resolution::credential), with no
// places; otherwise `stripped` with the places of the client's `$verified`
// (client_verified_places), else `none`.
VerificationResult verify(const DecodedEvent& event, Credential credential, unsigned max_depth);

// Every place the client sent a `$verified` where a downstream reader could take it for the
// verification flag (StripPlace), 0 for none: at the top level (`event`), in `properties`
// (`properties`), in `properties.$set`/`$set_once`/`$unset` or in the top-level
// `$set`/`$set_once` (`person_properties`) — of the outer object and of the client's event, a
// duplicate or NUL-disguised name counting as the place it reads as — and in a shadowed duplicate
// `data` a first-wins reader would parse, string or object (`shadowed`, alone: not also the place
// within it). The renderer removes every one of them from an unverified event, so these are also
// the places a forged `$verified` was stripped from.
StripPlaces client_verified_places(const DecodedEvent& event, unsigned max_depth);

// client_verified_places(event, max_depth) != 0.
bool has_client_verified(const DecodedEvent& event, unsigned max_depth);

}  // namespace warden
