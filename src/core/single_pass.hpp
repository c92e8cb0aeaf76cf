// The single-pass renderer: a value of the common capture shape (SPEC §2 example) scanned once and
// its outputs written from spans of the input, without building a document. Anything unusual is
// declined and goes through the DOM path (event_decoder, verification, rendering), which stays the
// reference: duplicated reserved names, outer fields capture does not write, `\u` and `\/` escapes
// (they can spell NULs and disguised names, and a writer prints them decoded), escaped or
// non-string identity fields, `$unset`, top-level `$set`, numbers a writer would print otherwise
// or that are past the largest double, invalid or deep input, and any output in which a secret
// appears (the DOM path redacts it).
#pragma once

#include <warden/core.hpp>

#include "routing.hpp"

#include <warden/json_scan.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace warden {

struct SinglePassResult {
    std::string_view uuid;
    std::string_view event;        // the event name
    std::string_view distinct_id;  // as the key is built from it
    Verification verification = Verification::none;
    StripPlaces stripped_from = 0;  // where a forged `$verified` was: non-zero exactly when `stripped`
    Route route;
    std::string_view main_json;     // the analytics / error-tracking event (empty: dropped)
    std::string_view heatmap_json;  // the split-off `$$heatmap` event, when route.emit_heatmap
    std::string heatmap_uuid;
};

class SinglePass {
public:
    // Renders `value` for `team`, sent with a secret (`verified`) or not; `skip_heatmap` is the
    // skip_heatmap_processing header. Returns false, deciding nothing, when the value has a shape
    // only the DOM path handles. The result's views point into `value` and into this object: they
    // live as long as `value` and until the next call.
    bool render(std::string_view value, const Team& team, bool verified, bool skip_heatmap, unsigned max_depth,
                SinglePassResult& out);

    using Span = json_scan::Span;
    using Member = json_scan::Member;

private:
    bool scan_outer(std::string_view value, unsigned max_depth);
    bool scan_data(unsigned max_depth);
    bool scan_properties(const char*& at, const char* end, unsigned max_depth);
    void write_main(const Team& team, bool verified, bool drop_heatmap_data);
    void write_heatmap(const Team& team, bool verified, std::string_view heatmap_uuid);
    void write_identity(std::string& out, const Team& team, std::string_view uuid, std::string_view event) const;

    // Fields of the merged event, outer over data; an absent span is absent or null.
    enum Field { uuid, event, distinct_id, ip, timestamp, now, sent_at, field_count };
    static Field field_of(std::string_view name);  // field_count for other names
    Span outer_[field_count];
    Span inner_[field_count];
    Span merged_[field_count];

    std::string data_;  // the client's event, unescaped from the outer `data` string
    Span data_span_;    // the `data` string's content in the value
    bool has_properties_ = false;
    std::vector<Member> properties_;  // in order, less `$verified` and the special names below
    std::vector<Member> others_;      // the client's other top-level fields, in order
    Span set_, set_once_, client_ip_, client_sent_at_, heatmap_data_;
    StripPlaces forged_places_ = 0;  // where the client's `$verified` members are (StripPlace)
    Span heatmap_properties_[7];     // the last of each name the `$$heatmap` event keeps

    std::string main_, heatmap_;
};

}  // namespace warden
