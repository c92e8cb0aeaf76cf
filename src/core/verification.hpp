// Where a client-sent `$verified` can hide (SPEC §4), for counting forgeries.
#pragma once

#include "event_decoder.hpp"

namespace warden {

// True when the client sent a `$verified` anywhere a downstream reader could take it for the
// verification flag: at the top level, in `properties`, in `properties.$set`/`$set_once`/`$unset`
// or in the top-level `$set`/`$set_once` — of the outer object, of the client's event and of
// every shadowed duplicate or NUL-disguised copy of these (a `data` string a first-wins reader
// would parse included). The renderer removes every one of them from an unverified event, so
// this is also "a forged `$verified` was stripped".
bool has_client_verified(const DecodedEvent& event, unsigned max_depth);

}  // namespace warden
