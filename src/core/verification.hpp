// Verification (SPEC §4): whether an event was sent with its team's secret, so the renderer sets
// `$verified: true`, or else whether the client forged a `$verified` that the renderer strips.
#pragma once

#include "event_decoder.hpp"

#include <string_view>

namespace warden {

// `verified` when `token` is a secret of `team` (Team::is_secret); otherwise `stripped` when
// the client sent a `$verified` (has_client_verified), else `none`.
Verification verify(const DecodedEvent& event, const Team& team, std::string_view token, unsigned max_depth);

// True when the client sent a `$verified` anywhere a downstream reader could take it for the
// verification flag: at the top level, in `properties`, in `properties.$set`/`$set_once`/`$unset`
// or in the top-level `$set`/`$set_once` — of the outer object, of the client's event and of
// every shadowed duplicate or NUL-disguised copy of these (a `data` string a first-wins reader
// would parse included). The renderer removes every one of them from an unverified event, so
// this is also "a forged `$verified` was stripped".
bool has_client_verified(const DecodedEvent& event, unsigned max_depth);

}  // namespace warden
