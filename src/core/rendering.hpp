// Rendering: the enriched output events (SPEC §2 merge, §4 verification, §5 heatmap split).
#pragma once

#include <warden/core.hpp>

#include "event_decoder.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <string_view>

namespace warden {

// RapidJSON's writer that remembers a refusal. The writer refuses what JSON cannot hold (a NaN or an
// infinity) after it wrote the separator before it, and a value's Accept() stops halfway through a
// container on a refusal, so going on would leave `{"x":}` or a text cut short (and trip the
// writer's assertions). After a refusal this one refuses every call and writes nothing more;
// complete() tells whether the text is one whole JSON value.
class JsonWriter {
public:
    using Ch = char;
    using SizeType = rapidjson::SizeType;

    explicit JsonWriter(rapidjson::StringBuffer& buffer) : writer_(buffer) {}

    void Reset(rapidjson::StringBuffer& buffer) {
        writer_.Reset(buffer);
        ok_ = true;
    }
    bool complete() const { return ok_ && writer_.IsComplete(); }

    bool Null() { return ok_ = ok_ && writer_.Null(); }
    bool Bool(bool b) { return ok_ = ok_ && writer_.Bool(b); }
    bool Int(int i) { return ok_ = ok_ && writer_.Int(i); }
    bool Uint(unsigned u) { return ok_ = ok_ && writer_.Uint(u); }
    bool Int64(int64_t i) { return ok_ = ok_ && writer_.Int64(i); }
    bool Uint64(uint64_t u) { return ok_ = ok_ && writer_.Uint64(u); }
    bool Double(double d) { return ok_ = ok_ && writer_.Double(d); }
    bool RawNumber(const Ch* s, SizeType n, bool copy = false) { return ok_ = ok_ && writer_.RawNumber(s, n, copy); }
    bool String(const Ch* s, SizeType n, bool copy = false) { return ok_ = ok_ && writer_.String(s, n, copy); }
    bool Key(const Ch* s, SizeType n, bool copy = false) { return ok_ = ok_ && writer_.Key(s, n, copy); }
    bool StartObject() { return ok_ = ok_ && writer_.StartObject(); }
    bool EndObject(SizeType n = 0) { return ok_ = ok_ && writer_.EndObject(n); }
    bool StartArray() { return ok_ = ok_ && writer_.StartArray(); }
    bool EndArray(SizeType n = 0) { return ok_ = ok_ && writer_.EndArray(n); }

private:
    rapidjson::Writer<rapidjson::StringBuffer> writer_;
    bool ok_ = true;
};

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
// Each render replaces the previous content of `out`. Returns false, with `out` holding no usable
// text, when the event holds a value JSON cannot (the writer refused it).
[[nodiscard]] bool render_event(const DecodedEvent& event, const Team& team, RenderOptions options, RenderedJson& out);

// The `$$heatmap` event split off an event carrying `$heatmap_data`; false as render_event.
[[nodiscard]] bool render_heatmap_event(const DecodedEvent& event, const Team& team, bool verified,
                                        std::string_view heatmap_uuid, RenderedJson& out);

}  // namespace warden
