// A consumed message's headers, borrowed or packed into one buffer.
#include <warden/core.hpp>

namespace warden {

void HeaderList::add(std::string_view name, std::optional<std::string_view> value) {
    Slot slot{};
    slot.name_offset = static_cast<uint32_t>(bytes_.size());
    slot.name_size = static_cast<uint32_t>(name.size());
    bytes_.append(name);
    slot.value_offset = static_cast<uint32_t>(bytes_.size());
    slot.has_value = value.has_value();
    if (value) {
        slot.value_size = static_cast<uint32_t>(value->size());
        bytes_.append(*value);
    }
    slots_.push_back(slot);
}

void HeaderList::reserve(size_t count, size_t bytes) {
    slots_.reserve(count);
    bytes_.reserve(bytes);
}

std::vector<HeaderView> HeaderList::views() const {
    std::vector<HeaderView> out;
    out.reserve(slots_.size());
    for (size_t i = 0; i < slots_.size(); ++i) out.push_back((*this)[i]);
    return out;
}

void HeaderList::clear() {
    bytes_.clear();
    slots_.clear();
}

std::optional<std::string_view> MessageView::header(std::string_view name) const {
    for (const HeaderView& h : headers) {
        if (h.name == name && h.value && !h.value->empty()) return h.value;
    }
    return std::nullopt;
}

namespace {

// What clear() keeps for reuse: enough for a few batches of ordinary records, never the memory of
// a batch of huge ones.
constexpr size_t max_spare_records = 4096;
constexpr size_t max_spare_bytes = size_t{8} << 20;

// Empties a key or value for reuse.
void keep(std::optional<std::string>& text) {
    if (!text) text.emplace();
    text->clear();
}

// The memory a record keeps.
size_t bytes_of(const OutputRecord& r) { return r.key->capacity() + r.value->capacity() + r.headers.capacity_bytes(); }

}  // namespace

OutputRecord& BatchResult::add_record() {
    if (spare_.empty()) {
        OutputRecord& r = records.emplace_back();
        r.key.emplace();
        r.value.emplace();
        return r;
    }
    OutputRecord& r = records.emplace_back(std::move(spare_.back()));
    spare_.pop_back();
    spare_bytes_ -= bytes_of(r);
    return r;
}

void BatchResult::clear() {
    for (OutputRecord& r : records) {
        r.destination = Destination::analytics;
        r.headers.clear();
        keep(r.key);
        keep(r.value);
        const size_t bytes = bytes_of(r);
        if (spare_.size() == max_spare_records || spare_bytes_ + bytes > max_spare_bytes) break;
        spare_bytes_ += bytes;
        spare_.push_back(std::move(r));
    }
    records.clear();
    outcomes.clear();
}

}  // namespace warden
