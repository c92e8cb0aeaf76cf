// Decoding: the outer object and the client's `data`, merged (SPEC §2).
#include "event_decoder.hpp"

#include "uuid.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace warden {
namespace {

const json::Value* non_null(const json::Value* v) { return v && !v->IsNull() ? v : nullptr; }

// Scalars become strings (SPEC §2.3); objects and arrays cannot.
bool stringify(const json::Value& v, std::string& out) {
    if (v.IsString()) {
        out.assign(json::view(v));
        return true;
    }
    if (v.IsObject() || v.IsArray() || v.IsNull()) return false;
    if (v.IsBool()) {
        out = v.GetBool() ? "true" : "false";
        return true;
    }
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    if (!v.Accept(writer)) return false;  // a number JSON cannot hold (parsing refuses them)
    out.assign(buffer.GetString(), buffer.GetSize());
    return true;
}

void replace_nul(std::string& text) {
    for (size_t i = text.find('\0'); i != std::string::npos; i = text.find('\0', i + 3)) {
        text.replace(i, 1, "\xEF\xBF\xBD");
    }
}

bool object_or_absent(const json::Value* v) { return v == nullptr || v->IsObject(); }

// The top-level fields the decoder needs, gathered in one pass per object.
struct KnownFields {
    enum Index { uuid, event, distinct_id, properties, set, set_once, ip, timestamp, now, sent_at, count };
    const json::Value* value[count] = {};
    bool present[count] = {};

    static int index_of(std::string_view name) {
        static constexpr std::string_view names[count] = {"uuid",      "event", "distinct_id", "properties", "$set",
                                                          "$set_once", "ip",    "timestamp",   "now",        "sent_at"};
        for (int i = 0; i < count; ++i) {
            if (names[i] == name) return i;
        }
        return -1;
    }

    // Later duplicates win; a present null still shadows (it means "absent" for the event).
    void collect(const json::Value& object) {
        for (auto m = object.MemberBegin(); m != object.MemberEnd(); ++m) {
            int i = index_of(json::view(m->name));
            if (i < 0) continue;
            value[i] = &m->value;
            present[i] = true;
        }
    }

    // Outer capture fields win over the client's event.
    static KnownFields merge(const KnownFields& data, const KnownFields& outer) {
        KnownFields merged;
        for (int i = 0; i < count; ++i) merged.value[i] = non_null(outer.present[i] ? outer.value[i] : data.value[i]);
        return merged;
    }
};

}  // namespace

ParsedValue::ParsedValue(std::span<char> first_chunk)
    : arena_(first_chunk.empty() ? json::Allocator() : json::Allocator(first_chunk.data(), first_chunk.size())) {}

void ParsedValue::parse(std::string_view value, unsigned max_depth) {
    arena_.Clear();
    input_.assign(value);
    failure_.reset();
    if (!json::parse_in_place(input_.data(), input_.size(), outer_, max_depth)) {
        failure_ = DecodeFailure{DeadLetterReason::failed_parse_message, "value is not valid JSON (or nests too deep)"};
    } else if (!outer_.IsObject()) {
        failure_ = DecodeFailure{DeadLetterReason::failed_parse_message, "value is not a JSON object"};
    }
}

std::optional<DecodeFailure> decode_event(ParsedValue& value, unsigned max_depth, DecodedEvent& event) {
    using R = DeadLetterReason;
    if (value.failure()) return value.failure();
    json::Document& outer_doc = value.outer();
    json::Document& data_doc = value.data();
    event.outer = &outer_doc;

    const json::Value* data = json::find_last(outer_doc, "data");
    event.data_member = data;
    if (data && data->IsString()) {
        // In-place parsing left the decoded string NUL-terminated inside our own buffer.
        char* text = const_cast<char*>(data->GetString());
        if (!json::parse_in_place(text, data->GetStringLength(), data_doc, max_depth)) {
            return DecodeFailure{R::failed_parse_message, "data is not valid JSON (or nests too deep)"};
        }
        data = &data_doc;
    }
    if (!data || !data->IsObject()) return DecodeFailure{R::failed_parse_message, "data is not a JSON object"};
    event.data = data;

    KnownFields from_data, from_outer;
    from_data.collect(*data);
    from_outer.collect(outer_doc);
    const KnownFields fields = KnownFields::merge(from_data, from_outer);
    using F = KnownFields;

    const json::Value* properties = fields.value[F::properties];
    event.set = fields.value[F::set];
    event.set_once = fields.value[F::set_once];
    if (!object_or_absent(properties) || !object_or_absent(event.set) || !object_or_absent(event.set_once)) {
        return DecodeFailure{R::failed_parse_message, "properties, $set and $set_once must be objects"};
    }
    if (properties) {
        const json::Value* inner_set = non_null(json::find_last(*properties, "$set"));
        const json::Value* inner_set_once = non_null(json::find_last(*properties, "$set_once"));
        if (!object_or_absent(inner_set) || !object_or_absent(inner_set_once)) {
            return DecodeFailure{R::failed_parse_message, "properties.$set and $set_once must be objects"};
        }
    }
    event.properties = properties;

    const json::Value* event_name = fields.value[F::event];
    if (!event_name || !stringify(*event_name, event.event)) {
        return DecodeFailure{R::failed_parse_message, "event must be a string"};
    }
    const json::Value* distinct_id = fields.value[F::distinct_id];
    if (!distinct_id || !stringify(*distinct_id, event.distinct_id)) {
        return DecodeFailure{R::failed_parse_message, "distinct_id must be a string"};
    }
    // A reader that stops at NUL would see another id or event name ("$exception\0x" as
    // "$exception"); routing and keys use the same repaired text that readers see.
    replace_nul(event.distinct_id);
    replace_nul(event.event);

    const json::Value* id = fields.value[F::uuid];
    if (!id || (id->IsString() && id->GetStringLength() == 0)) {
        return DecodeFailure{R::empty_uuid, "uuid is missing or empty"};
    }
    if (!id->IsString() || !uuid::is_valid(json::view(*id))) {
        return DecodeFailure{R::invalid_uuid, "uuid is not a valid UUID"};
    }
    event.uuid = json::view(*id);

    event.ip = fields.value[F::ip];
    event.timestamp = fields.value[F::timestamp];
    event.now = fields.value[F::now];
    event.sent_at = fields.value[F::sent_at];
    return std::nullopt;
}

}  // namespace warden
