#include "routing.hpp"

#include "json_parse.hpp"

namespace warden {
namespace {

Destination destination_of(std::string_view event_name) {
    if (event_name == "$exception") return Destination::error_tracking;
    if (event_name == "$$heatmap") return Destination::heatmaps;
    return Destination::analytics;
}

}  // namespace

Route route(const DecodedEvent& event, const Team& team, const MessageView& message) {
    Route r;
    r.destination = destination_of(event.event);
    const bool heatmaps_allowed = team.heatmaps_opt_in.value_or(true);
    if (r.destination == Destination::heatmaps) {
        r.dropped_by_opt_out = !heatmaps_allowed;
        return r;
    }
    r.split_heatmap = event.properties && json::find_last(*event.properties, "$heatmap_data") != nullptr &&
                      message.header("skip_heatmap_processing") != std::optional<std::string_view>("true");
    r.emit_heatmap = r.split_heatmap && heatmaps_allowed;
    return r;
}

}  // namespace warden
