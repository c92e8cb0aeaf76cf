#include "record_size.hpp"

#include <algorithm>
#include <string>

namespace warden {
namespace {

// Record batch v2: a 61-byte batch header, then one record of length, attributes, timestamp
// delta, offset delta, key length, value length and header count (varints at their widest).
constexpr size_t batch_overhead = 61 + 5 + 1 + 10 + 5 + 5 + 5 + 5;
constexpr size_t header_overhead = 5 + 5;  // name and value lengths

size_t header_size(const HeaderView& h) { return header_overhead + h.name.size() + (h.value ? h.value->size() : 0); }

}  // namespace

size_t record_wire_size(const OutputRecord& record) {
    size_t size = batch_overhead + (record.key ? record.key->size() : 0) + (record.value ? record.value->size() : 0);
    for (size_t i = 0; i < record.headers.size(); ++i) size += header_size(record.headers[i]);
    return size;
}

size_t input_wire_size(const MessageView& message) {
    size_t size =
        batch_overhead + (message.key ? message.key->size() : 0) + (message.value ? message.value->size() : 0);
    for (const HeaderView& h : message.headers) size += header_size(h);
    return size;
}

void fit_dead_letter(OutputRecord& record, size_t original_headers, size_t limit) {
    const size_t original = record_wire_size(record);
    if (original <= limit) return;

    // The dlq_* headers warden added come after the original ones, and always stay.
    const size_t first_dlq = std::min(original_headers, record.headers.size());
    HeaderList kept;
    size_t fixed = batch_overhead;
    for (size_t i = first_dlq; i < record.headers.size(); ++i) fixed += header_size(record.headers[i]);
    const std::string original_bytes = std::to_string(original);
    fixed += header_size({"dlq_truncated", "true"}) + header_size({"dlq_original_bytes", original_bytes});
    size_t room = limit > fixed ? limit - fixed : 0;

    // Original headers get up to a quarter of the room, whole ones in order; the key a quarter;
    // the value the rest, so the start of what was sent is there to look at.
    size_t header_room = room / 4;
    for (size_t i = 0; i < first_dlq; ++i) {
        const HeaderView h = record.headers[i];
        if (header_size(h) > header_room) continue;
        header_room -= header_size(h);
        room -= header_size(h);
        kept.add(h.name, h.value);
    }
    if (record.key) {
        record.key->resize(std::min(record.key->size(), room / 4));
        room -= record.key->size();
    }
    if (record.value) record.value->resize(std::min(record.value->size(), room));
    for (size_t i = first_dlq; i < record.headers.size(); ++i)
        kept.add(record.headers[i].name, record.headers[i].value);
    kept.add("dlq_truncated", "true");
    kept.add("dlq_original_bytes", original_bytes);
    record.headers = std::move(kept);
}

}  // namespace warden
