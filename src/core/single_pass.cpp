// The single-pass renderer (see single_pass.hpp). It writes exactly what rendering.cpp writes for
// the shapes it accepts; the differential tests hold it to that.
#include "single_pass.hpp"

#include "secret_redaction.hpp"
#include "uuid.hpp"

#include <warden/json_scan.hpp>

#include <array>
#include <charconv>
#include <cstring>

namespace warden {
namespace {

using namespace json_scan;

constexpr std::array<std::string_view, 7> heatmap_names = {
    "$heatmap_data",           "$viewport_height",          "$viewport_width", "$session_id",
    "$prev_pageview_pathname", "$prev_pageview_max_scroll", "$current_url"};

bool is_null(const Span& s) { return s.present() && s.text() == "null"; }

// Present and not null: what the DOM path's non_null() keeps.
Span non_null(const Span& s) { return is_null(s) ? Span{} : s; }

bool is_string(const Span& s) { return s.present() && *s.begin == '"'; }

std::string_view string_content(const Span& s) { return {s.begin + 1, static_cast<size_t>(s.end - s.begin - 2)}; }

bool truthy(const Span& s) {
    if (!s.present()) return false;
    const std::string_view text = s.text();
    return text != "null" && text != "false" && text != "\"\"";
}

// Appends a scanned value without the whitespace outside its strings, as a writer prints it.
void append_compact(std::string& out, const Span& value) {
    // A scalar's span is just the scalar (strings scanned whole, closed and complete): as it is.
    if (*value.begin != '{' && *value.begin != '[') {
        out.append(value.begin, value.end);
        return;
    }
    const char* p = value.begin;
    while (p < value.end) {
        if (*p != '"') {
            if (!is_space(*p)) out.push_back(*p);
            ++p;
            continue;
        }
        // Scanned before: closed, with complete escapes and no control characters.
        const char* q = find_string_special(p + 1, value.end);
        while (*q == '\\') q = find_string_special(q + 2, value.end);
        out.append(p, static_cast<size_t>(q + 1 - p));
        p = q + 1;
    }
}

void append_int(std::string& out, int64_t n) {
    char digits[24];
    const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
    out.append(digits, end);
}

// Writes `,"name":` or `"name":` for the first member.
void append_key(std::string& out, bool& first, std::string_view name) {
    if (!first) out.push_back(',');
    first = false;
    out.push_back('"');
    out.append(name);
    out.append("\":");
}

// Writes a scanned object less its `$verified` members when `strip`.
void append_object(std::string& out, const Span& object, bool strip) {
    out.push_back('{');
    const char* at = object.begin + 1;
    const char* end = object.end;
    skip_space(at, end);
    bool first = true, closed = false, ok = true;
    if (*at == '}') closed = true;
    while (!closed) {
        Member m;
        scan_member(at, end, 0, ~0U, m);  // scanned before: cannot fail
        if (!(strip && m.name.text() == "$verified")) {
            append_key(out, first, m.name.text());
            append_compact(out, m.value);
        }
        if (!next_member(at, end, closed, ok)) break;
    }
    out.push_back('}');
}

// Whether a scanned object has a member named `$verified`.
bool object_holds_verified(const Span& object) {
    const char* at = object.begin + 1;
    const char* end = object.end;
    skip_space(at, end);
    if (*at == '}') return false;
    bool closed = false, ok = true;
    for (;;) {
        Member m;
        scan_member(at, end, 0, ~0U, m);
        if (m.name.text() == "$verified") return true;
        if (!next_member(at, end, closed, ok)) return false;
    }
}

Destination destination_of(std::string_view event_name) {
    if (event_name == "$exception") return Destination::error_tracking;
    if (event_name == "$$heatmap") return Destination::heatmaps;
    return Destination::analytics;
}

// Widest objects scanned for duplicate names pairwise; wider ones go to the DOM path's index.
constexpr size_t max_other_fields = 32;

}  // namespace

SinglePass::Field SinglePass::field_of(std::string_view name) {
    static constexpr std::string_view names[field_count] = {"uuid",      "event", "distinct_id", "ip",
                                                            "timestamp", "now",   "sent_at"};
    for (int f = 0; f < field_count; ++f) {
        if (name == names[f]) return static_cast<Field>(f);
    }
    return field_count;
}

bool SinglePass::scan_outer(std::string_view value, unsigned max_depth) {
    const char* at = value.data();
    const char* end = at + value.size();
    skip_space(at, end);
    if (at == end || *at != '{' || max_depth < 1) return false;
    ++at;
    skip_space(at, end);
    bool token_seen = false, closed = false, ok = true;
    if (at < end && *at == '}') return false;  // no data: the DOM path dead-letters it
    do {
        Span name;
        if (!scan_name(at, end, name)) return false;
        const char* value_begin = at;
        const std::string_view n = name.text();
        if (n == "data") {
            if (data_span_.present() || at == end || *at != '"' || !scan_string(at, end, data_span_, true))
                return false;
        } else {
            const Field f = field_of(n);
            if (f == field_count) {
                // Other outer fields are rare: the DOM path merges them.
                if (n != "token" || token_seen) return false;
                token_seen = true;
            }
            if (!scan_value(at, end, 1, max_depth)) return false;
            if (f != field_count) {
                if (outer_[f].present()) return false;
                outer_[f] = {value_begin, at};
            }
        }
    } while (next_member(at, end, closed, ok));
    if (!ok) return false;
    skip_space(at, end);
    return at == end && data_span_.present();
}

bool SinglePass::scan_data(unsigned max_depth) {
    // Unescape the `data` string once (`\u` escapes declined: they can spell NULs and lone
    // surrogates, which the DOM path repairs).
    if (!unescape(data_span_, data_)) return false;
    const char* at = data_.data();
    const char* end = at + data_.size();
    skip_space(at, end);
    if (at == end || *at != '{') return false;
    ++at;
    skip_space(at, end);
    bool closed = false, ok = true;
    if (at < end && *at == '}') {
        closed = true;
        ++at;
    }
    while (!closed) {
        Member m;
        if (!scan_name(at, end, m.name)) return false;
        m.value.begin = at;
        const std::string_view n = m.name.text();
        if (n == "properties") {
            if (has_properties_ || !scan_properties(at, end, max_depth)) return false;
        } else {
            if (!scan_value(at, end, 1, max_depth)) return false;
            m.value.end = at;
            if (const Field f = field_of(n); f != field_count) {
                if (inner_[f].present()) return false;
                inner_[f] = m.value;
            } else if (n == "$verified") {
                forged_places_ |= strip_place(StripPlace::event);  // never written: the renderer sets its own
            } else if (n == "$set" || n == "$set_once" || n == "data") {
                return false;  // merged or shadowed by rules the DOM path keeps
            } else if (n != "token" && n != "team_id" && n != "project_id") {
                if (others_.size() == max_other_fields) return false;
                for (const Member& o : others_) {
                    if (o.name.text() == n) return false;
                }
                others_.push_back(m);
            }
        }
        if (!next_member(at, end, closed, ok)) break;
    }
    if (!ok) return false;
    skip_space(at, end);
    return at == end;
}

bool SinglePass::scan_properties(const char*& at, const char* end, unsigned max_depth) {
    if (at < end && *at == 'n') return scan_literal(at, end, "null");  // null: no properties
    if (at == end || *at != '{' || max_depth < 2) return false;
    has_properties_ = true;
    ++at;
    skip_space(at, end);
    bool closed = false, ok = true;
    if (at < end && *at == '}') {
        ++at;
        return true;
    }
    do {
        Member m;
        if (!scan_member(at, end, 2, max_depth, m)) return false;
        const std::string_view n = m.name.text();
        if (!n.starts_with('$')) {
            properties_.push_back(m);
            continue;
        }
        if (n == "$set" || n == "$set_once") {
            Span& slot = n == "$set" ? set_ : set_once_;
            if (slot.present()) return false;
            if (*m.value.begin == '{') {
                if (object_holds_verified(m.value)) forged_places_ |= strip_place(StripPlace::person_properties);
            } else if (!is_null(m.value)) {
                return false;  // the DOM path dead-letters it
            }
            slot = m.value;
        } else if (n == "$ip" || n == "$sent_at") {
            Span& slot = n == "$ip" ? client_ip_ : client_sent_at_;
            if (slot.present()) return false;
            slot = m.value;
        } else if (n == "$verified") {
            forged_places_ |= strip_place(StripPlace::properties);
        } else if (n == "$unset") {
            return false;
        } else {
            for (size_t i = 0; i < heatmap_names.size(); ++i) {
                if (n == heatmap_names[i]) heatmap_properties_[i] = m.value;
            }
            properties_.push_back(m);
        }
    } while (next_member(at, end, closed, ok));
    return ok;
}

void SinglePass::write_identity(std::string& out, const Team& team, std::string_view uuid_text,
                                std::string_view event_name) const {
    out.append("{\"uuid\":\"");
    out.append(uuid_text);
    out.append("\",\"event\":\"");
    out.append(event_name);
    out.append("\",\"distinct_id\":\"");
    out.append(string_content(merged_[distinct_id]));
    out.append("\",\"team_id\":");
    append_int(out, team.id);
    out.append(",\"project_id\":");
    append_int(out, team.project_id);
    // Capture already corrected the timestamp for client clock skew; without one, use `now`.
    const Span& ts = merged_[timestamp].present() ? merged_[timestamp] : merged_[now];
    if (ts.present()) {
        out.append(",\"timestamp\":");
        append_compact(out, ts);
    }
    if (merged_[now].present()) {
        out.append(",\"now\":");
        append_compact(out, merged_[now]);
    }
    if (merged_[sent_at].present()) {
        out.append(",\"sent_at\":");
        append_compact(out, merged_[sent_at]);
    }
}

void SinglePass::write_main(const Team& team, bool verified, bool drop_heatmap_data) {
    std::string& out = main_;
    out.clear();
    write_identity(out, team, string_content(merged_[uuid]), string_content(merged_[event]));
    out.append(",\"properties\":{");
    bool first = true;
    for (const Member& m : properties_) {
        if (drop_heatmap_data && m.name.text() == "$heatmap_data") continue;
        append_key(out, first, m.name.text());
        append_compact(out, m.value);
    }
    if (const Span set = non_null(set_); set.present()) {
        append_key(out, first, "$set");
        append_object(out, set, !verified);
    }
    if (const Span set_once = non_null(set_once_); set_once.present()) {
        append_key(out, first, "$set_once");
        append_object(out, set_once, !verified);
    }
    if (!team.anonymize_ips) {
        const Span& ip_value = truthy(client_ip_) ? client_ip_ : merged_[ip];
        if (truthy(ip_value)) {
            append_key(out, first, "$ip");
            append_compact(out, ip_value);
        }
    }
    if (const Span sent = merged_[sent_at].present() ? merged_[sent_at] : non_null(client_sent_at_); sent.present()) {
        append_key(out, first, "$sent_at");
        append_compact(out, sent);
    }
    if (verified) {
        append_key(out, first, "$verified");
        out.append("true");
    }
    out.push_back('}');
    for (const Member& m : others_) {
        out.append(",\"");
        out.append(m.name.text());
        out.append("\":");
        append_compact(out, m.value);
    }
    out.push_back('}');
}

void SinglePass::write_heatmap(const Team& team, bool verified, std::string_view heatmap_uuid) {
    std::string& out = heatmap_;
    out.clear();
    write_identity(out, team, heatmap_uuid, "$$heatmap");
    out.append(",\"properties\":{");
    bool first = true;
    for (size_t i = 0; i < heatmap_names.size(); ++i) {
        if (!heatmap_properties_[i].present()) continue;
        append_key(out, first, heatmap_names[i]);
        append_compact(out, heatmap_properties_[i]);
    }
    if (verified) {
        append_key(out, first, "$verified");
        out.append("true");
    }
    out.append("}}");
}

bool SinglePass::render(std::string_view value, const Team& team, bool verified, bool skip_heatmap, unsigned max_depth,
                        SinglePassResult& out) {
    for (int f = 0; f < field_count; ++f) outer_[f] = inner_[f] = Span{};
    data_span_ = Span{};
    has_properties_ = false;
    forged_places_ = 0;
    properties_.clear();
    others_.clear();
    set_ = set_once_ = client_ip_ = client_sent_at_ = Span{};
    for (Span& s : heatmap_properties_) s = Span{};

    if (!scan_outer(value, max_depth) || !scan_data(max_depth)) return false;
    // Outer fields win over the client's; a null one shadows and means absent.
    for (int f = 0; f < field_count; ++f) merged_[f] = non_null(outer_[f].present() ? outer_[f] : inner_[f]);
    // Identity fields other than strings are stringified or refused by the DOM path.
    // Escaped ones are declined too: the key and the routing need the decoded text.
    for (Field f : {event, distinct_id, uuid}) {
        if (!is_string(merged_[f]) || string_content(merged_[f]).find('\\') != std::string_view::npos) return false;
    }
    const std::string_view uuid_text = string_content(merged_[uuid]);
    if (uuid_text.empty() || !uuid::is_valid(uuid_text)) return false;

    out = SinglePassResult{};
    out.uuid = uuid_text;
    out.event = string_content(merged_[event]);
    out.distinct_id = string_content(merged_[distinct_id]);
    out.verification = verified              ? Verification::verified
                       : forged_places_ != 0 ? Verification::stripped
                                             : Verification::none;
    out.stripped_from = verified ? StripPlaces{0} : forged_places_;
    Route& r = out.route;
    r.destination = destination_of(out.event);
    const bool heatmaps_allowed = team.heatmaps_opt_in.value_or(true);
    if (r.destination == Destination::heatmaps) {
        r.dropped_by_opt_out = !heatmaps_allowed;
        if (r.dropped_by_opt_out) return true;
    } else {
        r.split_heatmap = heatmap_properties_[0].present() && !skip_heatmap;
        r.emit_heatmap = r.split_heatmap && heatmaps_allowed;
    }

    write_main(team, verified, r.split_heatmap);
    if (secrets::appears_in_json(main_, team)) return false;  // the DOM path redacts
    out.main_json = main_;
    if (r.emit_heatmap) {
        out.heatmap_uuid = uuid::derive("$$heatmap:" + std::string(uuid_text));
        write_heatmap(team, verified, out.heatmap_uuid);
        if (secrets::appears_in_json(heatmap_, team)) return false;
        out.heatmap_json = heatmap_;
    }
    return true;
}

}  // namespace warden
