#include "rendering.hpp"

#include "member_index.hpp"
#include "reserved_names.hpp"

#include <rapidjson/writer.h>

#include <array>

namespace warden {
namespace {

using Writer = JsonWriter;

constexpr std::array<std::string_view, 7> heatmap_properties = {
    "$heatmap_data",           "$viewport_height",          "$viewport_width", "$session_id",
    "$prev_pageview_pathname", "$prev_pageview_max_scroll", "$current_url"};

void key(Writer& w, std::string_view name) { w.Key(name.data(), static_cast<rapidjson::SizeType>(name.size())); }

void string(Writer& w, std::string_view text) { w.String(text.data(), static_cast<rapidjson::SizeType>(text.size())); }

bool truthy(const json::Value* v) {
    if (!v || v->IsNull()) return false;
    if (v->IsString()) return v->GetStringLength() > 0;
    if (v->IsBool()) return v->GetBool();
    return true;
}

// Writes `object`'s members, less `$verified` keys when `strip`, less names in `skip_names`.
void write_members(Writer& w, const json::Value* object, bool strip, const json::Value* skip_names = nullptr) {
    if (!object) return;
    const json::MemberIndex skip(skip_names);
    for (auto m = object->MemberBegin(); m != object->MemberEnd(); ++m) {
        std::string_view name = json::view(m->name);
        if (strip && names::is_verified(name)) continue;
        if (skip.contains(name)) continue;
        key(w, name);
        m->value.Accept(w);
    }
}

// `$unset` is an array of names or an object keyed by name; both lose `$verified` when `strip`.
void write_unset(Writer& w, const json::Value& unset, bool strip) {
    if (unset.IsArray()) {
        w.StartArray();
        for (const auto& e : unset.GetArray()) {
            if (strip && e.IsString() && names::is_verified(json::view(e))) continue;
            e.Accept(w);
        }
        w.EndArray();
    } else if (unset.IsObject()) {
        w.StartObject();
        write_members(w, &unset, strip);
        w.EndObject();
    } else {
        unset.Accept(w);
    }
}

void write_identity(Writer& w, const DecodedEvent& event, const Team& team, std::string_view uuid,
                    std::string_view event_name) {
    key(w, "uuid");
    string(w, uuid);
    key(w, "event");
    string(w, event_name);
    key(w, "distinct_id");
    string(w, event.distinct_id);
    key(w, "team_id");
    w.Int64(team.id);
    key(w, "project_id");
    w.Int64(team.project_id);
    // Capture already corrected the timestamp for client clock skew; without one, use `now`.
    if (const json::Value* ts = event.timestamp ? event.timestamp : event.now) {
        key(w, "timestamp");
        ts->Accept(w);
    }
    if (event.now) {
        key(w, "now");
        event.now->Accept(w);
    }
    if (event.sent_at) {
        key(w, "sent_at");
        event.sent_at->Accept(w);
    }
}

void write_properties(Writer& w, const DecodedEvent& event, const Team& team, RenderOptions options) {
    const bool strip = !options.verified;
    const json::Value* props = event.properties;
    const json::Value* inner_set = nullptr;
    const json::Value* inner_set_once = nullptr;
    const json::Value* client_ip = nullptr;
    const json::Value* client_sent_at = nullptr;

    key(w, "properties");
    w.StartObject();
    const json::MemberIndex index(props);
    if (props) {
        for (auto m = props->MemberBegin(); m != props->MemberEnd(); ++m) {
            std::string_view name = json::view(m->name);
            if (!name.starts_with('$')) {
                key(w, name);
                m->value.Accept(w);
                continue;
            }
            const json::Value* v = m->value.IsNull() ? nullptr : &m->value;
            // Keys written once below take their last occurrence, so readers agree on them.
            if (name == "$set") inner_set = v;
            else if (name == "$set_once") inner_set_once = v;
            else if (name == "$ip") client_ip = v;
            else if (name == "$sent_at") client_sent_at = v;
            else if (names::is_verified(name) || names::is_disguised_special_property(name) ||
                     (name == "$heatmap_data" && options.drop_heatmap_data))
                continue;
            else if (name == "$unset") {
                if (index.shadowed(m)) continue;
                key(w, name);
                write_unset(w, m->value, strip);
            } else {
                key(w, name);
                m->value.Accept(w);
            }
        }
    }
    if (inner_set || event.set) {  // top-level $set wins over properties.$set
        key(w, "$set");
        w.StartObject();
        write_members(w, inner_set, strip, event.set);
        write_members(w, event.set, strip);
        w.EndObject();
    }
    if (inner_set_once || event.set_once) {  // properties.$set_once wins over top-level
        key(w, "$set_once");
        w.StartObject();
        write_members(w, event.set_once, strip, inner_set_once);
        write_members(w, inner_set_once, strip);
        w.EndObject();
    }
    if (!team.anonymize_ips) {
        const json::Value* ip = truthy(client_ip) ? client_ip : (truthy(event.ip) ? event.ip : nullptr);
        if (ip) {
            key(w, "$ip");
            ip->Accept(w);
        }
    }
    if (const json::Value* sent_at = event.sent_at ? event.sent_at : client_sent_at) {
        key(w, "$sent_at");
        sent_at->Accept(w);
    }
    if (options.verified) {
        key(w, "$verified");
        w.Bool(true);
    }
    w.EndObject();
}

// Writes a top-level member unless a later duplicate, or (for `data`) the outer object, wins.
void write_other_fields(Writer& w, const DecodedEvent& event, bool strip) {
    const json::MemberIndex outer(event.outer);
    auto write_from = [&](const json::Value& object, bool is_outer) {
        const json::MemberIndex index(&object);
        for (auto m = object.MemberBegin(); m != object.MemberEnd(); ++m) {
            std::string_view name = json::view(m->name);
            if (names::is_reserved_top_level(name) || index.shadowed(m)) continue;
            if (is_outer && name == "data") continue;
            if (!is_outer && outer.contains(name) && name != "data") continue;
            key(w, name);
            if ((name == "$set" || name == "$set_once") && m->value.IsObject()) {
                w.StartObject();
                write_members(w, &m->value, strip);
                w.EndObject();
            } else {
                m->value.Accept(w);
            }
        }
    };
    write_from(*event.data, false);
    write_from(*event.outer, true);
}

}  // namespace

bool render_event(const DecodedEvent& event, const Team& team, RenderOptions options, RenderedJson& out) {
    Writer& w = out.restart();
    w.StartObject();
    write_identity(w, event, team, event.uuid, event.event);
    write_properties(w, event, team, options);
    write_other_fields(w, event, !options.verified);
    w.EndObject();
    return w.complete();
}

bool render_heatmap_event(const DecodedEvent& event, const Team& team, bool verified, std::string_view heatmap_uuid,
                          RenderedJson& out) {
    Writer& w = out.restart();
    w.StartObject();
    write_identity(w, event, team, heatmap_uuid, "$$heatmap");
    key(w, "properties");
    w.StartObject();
    for (std::string_view name : heatmap_properties) {
        if (const json::Value* v = event.properties ? json::find_last(*event.properties, name) : nullptr) {
            key(w, name);
            v->Accept(w);
        }
    }
    if (verified) {
        key(w, "$verified");
        w.Bool(true);
    }
    w.EndObject();
    w.EndObject();
    return w.complete();
}

}  // namespace warden
