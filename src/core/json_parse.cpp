#include "json_parse.hpp"

#include <rapidjson/reader.h>

namespace warden::json {
namespace {

// Forwards SAX events to the document, refusing to go deeper than the limit.
template <typename Handler>
struct DepthLimiter {
    Handler& next;
    unsigned max_depth;
    unsigned depth = 0;

    bool Null() { return next.Null(); }
    bool Bool(bool b) { return next.Bool(b); }
    bool Int(int i) { return next.Int(i); }
    bool Uint(unsigned u) { return next.Uint(u); }
    bool Int64(int64_t i) { return next.Int64(i); }
    bool Uint64(uint64_t u) { return next.Uint64(u); }
    bool Double(double d) { return next.Double(d); }
    bool RawNumber(const char* s, rapidjson::SizeType n, bool copy) { return next.RawNumber(s, n, copy); }
    bool String(const char* s, rapidjson::SizeType n, bool copy) { return next.String(s, n, copy); }
    bool Key(const char* s, rapidjson::SizeType n, bool copy) { return next.Key(s, n, copy); }
    bool StartObject() { return ++depth <= max_depth && next.StartObject(); }
    bool EndObject(rapidjson::SizeType n) {
        --depth;
        return next.EndObject(n);
    }
    bool StartArray() { return ++depth <= max_depth && next.StartArray(); }
    bool EndArray(rapidjson::SizeType n) {
        --depth;
        return next.EndArray(n);
    }
};

}  // namespace

bool parse_in_place(char* text, size_t size, Document& doc, unsigned max_depth) {
    // The recursive parser is safe here: StartObject/StartArray fail past max_depth before the
    // parser descends, so its recursion is bounded by the limit (and it is faster than the
    // iterative one).
    constexpr unsigned flags = rapidjson::kParseInsituFlag;
    bool ok = false;
    size_t consumed = 0;
    auto generate = [&](Document& handler) {
        rapidjson::InsituStringStream stream(text);
        DepthLimiter<Document> limiter{handler, max_depth};
        rapidjson::GenericReader<rapidjson::UTF8<>, rapidjson::UTF8<>, Allocator> reader(&doc.GetAllocator());
        ok = !reader.Parse<flags>(stream, limiter).IsError();
        consumed = stream.Tell();
        return ok;
    };
    doc.Populate(generate);
    // A raw NUL ends the stream early; anything after it is trailing garbage.
    return ok && consumed == size;
}

const Value* find_last(const Value& object, std::string_view name) {
    const Value* found = nullptr;
    for (auto m = object.MemberBegin(); m != object.MemberEnd(); ++m) {
        if (view(m->name) == name) found = &m->value;
    }
    return found;
}

}  // namespace warden::json
