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

HeaderView HeaderList::operator[](size_t i) const {
    const Slot& s = slots_[i];
    std::string_view all(bytes_);
    HeaderView h{all.substr(s.name_offset, s.name_size), std::nullopt};
    if (s.has_value) h.value = all.substr(s.value_offset, s.value_size);
    return h;
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

}  // namespace warden
