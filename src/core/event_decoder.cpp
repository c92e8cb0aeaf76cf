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
    v.Accept(writer);
    out.assign(buffer.GetString(), buffer.GetSize());
    return true;
}

void replace_nul(std::string& text) {
    for (size_t i = text.find('\0'); i != std::string::npos; i = text.find('\0', i + 3)) {
        text.replace(i, 1, "\xEF\xBF\xBD");
    }
}

bool object_or_absent(const json::Value* v) { return v == nullptr || v->IsObject(); }

}  // namespace

const json::Value* DecodedEvent::field(std::string_view name) const {
    if (name != "data" && name != "token") {
        if (const json::Value* v = json::find_last(*outer, name)) return non_null(v);
    }
    return non_null(json::find_last(*data, name));
}

std::optional<DecodeFailure> decode_event(char* buffer, size_t size, json::Document& outer_doc,
                                          json::Document& data_doc, unsigned max_depth,
                                          DecodedEvent& event) {
    using R = DeadLetterReason;
    if (!json::parse_in_place(buffer, size, outer_doc, max_depth)) {
        return DecodeFailure{R::failed_parse_message, "value is not valid JSON (or nests too deep)"};
    }
    if (!outer_doc.IsObject()) return DecodeFailure{R::failed_parse_message, "value is not a JSON object"};
    event.outer = &outer_doc;

    const json::Value* data = json::find_last(outer_doc, "data");
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

    const json::Value* properties = event.field("properties");
    event.set = event.field("$set");
    event.set_once = event.field("$set_once");
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

    const json::Value* event_name = event.field("event");
    if (!event_name || !stringify(*event_name, event.event)) {
        return DecodeFailure{R::failed_parse_message, "event must be a string"};
    }
    const json::Value* distinct_id = event.field("distinct_id");
    if (!distinct_id || !stringify(*distinct_id, event.distinct_id)) {
        return DecodeFailure{R::failed_parse_message, "distinct_id must be a string"};
    }
    replace_nul(event.distinct_id);

    const json::Value* id = event.field("uuid");
    if (!id || (id->IsString() && id->GetStringLength() == 0)) {
        return DecodeFailure{R::empty_uuid, "uuid is missing or empty"};
    }
    if (!id->IsString() || !uuid::is_valid(json::view(*id))) {
        return DecodeFailure{R::invalid_uuid, "uuid is not a valid UUID"};
    }
    event.uuid = json::view(*id);

    event.ip = event.field("ip");
    event.timestamp = event.field("timestamp");
    event.now = event.field("now");
    event.sent_at = event.field("sent_at");
    return std::nullopt;
}

}  // namespace warden
