// Routing (SPEC §5): the topic an event goes to, and whether its heatmap data goes out as a
// `$$heatmap` event of its own.
#pragma once

#include <warden/core.hpp>

#include "event_decoder.hpp"

namespace warden {

struct Route {
    Destination destination = Destination::analytics;
    // A `$$heatmap` event of a team that opted out of heatmaps: dropped whole.
    bool dropped_by_opt_out = false;
    // The event carries `$heatmap_data` to split off (the renderer leaves it out of the event).
    bool split_heatmap = false;
    // The split-off part goes out as a `$$heatmap` event; when split but not emitted, the team
    // opted out and only that part is dropped.
    bool emit_heatmap = false;
};

Route route(const DecodedEvent& event, const Team& team, const MessageView& message);

}  // namespace warden
