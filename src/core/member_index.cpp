#include "member_index.hpp"

namespace warden::json {

MemberIndex::MemberIndex(const Value* object) : object_(object) {
    if (!object_ || object_->MemberCount() <= narrow_width) return;
    last_.reserve(object_->MemberCount());
    for (auto m = object_->MemberBegin(); m != object_->MemberEnd(); ++m) last_[view(m->name)] = &m->value;
}

bool MemberIndex::contains(std::string_view name) const {
    if (!object_) return false;
    if (object_->MemberCount() > narrow_width) return last_.contains(name);
    return find_last(*object_, name) != nullptr;
}

bool MemberIndex::shadowed(Value::ConstMemberIterator m) const {
    const std::string_view name = view(m->name);
    if (object_->MemberCount() > narrow_width) return last_.at(name) != &m->value;
    for (auto later = m + 1; later != object_->MemberEnd(); ++later) {
        if (view(later->name) == name) return true;
    }
    return false;
}

}  // namespace warden::json
