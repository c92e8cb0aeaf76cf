// Rendering: the enriched output events (SPEC §2 merge, §4 verification, §5 heatmap split).
#pragma once

#include <warden/core.hpp>

#include "event_decoder.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace warden {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// A reusable output buffer with its writer, kept across events so both allocate once.
struct RenderedJson {
    rapidjson::StringBuffer buffer;
    JsonWriter writer{buffer};

    JsonWriter& restart() {
        buffer.Clear();
        writer.Reset(buffer);
        return writer;
    }
    std::string_view text() const { return {buffer.GetString(), buffer.GetSize()}; }
};

struct RenderOptions {
    bool verified = false;           // sent with a secret token: set $verified, keep person props
    bool drop_heatmap_data = false;  // the heatmap part goes out as its own event
};

// The analytics / error-tracking form of the event.
// Each render replaces the previous content of `out`.
void render_event(const DecodedEvent& event, const Team& team, RenderOptions options, RenderedJson& out);

// The `$$heatmap` event split off an event carrying `$heatmap_data`.
void render_heatmap_event(const DecodedEvent& event, const Team& team, bool verified, std::string_view heatmap_uuid,
                          RenderedJson& out);

}  // namespace warden
