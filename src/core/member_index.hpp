// Where each member name of a JSON object last appears.
#pragma once

#include "json_parse.hpp"

#include <string_view>
#include <unordered_map>

namespace warden::json {

// Answers "is there a member named x" and "does a later member shadow this one" in constant time
// on objects of any width: a hostile event can carry a hundred thousand members, and pairwise
// scans would stall the worker for seconds per message. Narrow objects are scanned directly.
class MemberIndex {
public:
    explicit MemberIndex(const Value* object);  // null: an empty object

    bool contains(std::string_view name) const;
    // True when a later member of the object has the same name as `m`.
    bool shadowed(Value::ConstMemberIterator m) const;

private:
    static constexpr unsigned narrow_width = 16;
    const Value* object_;
    std::unordered_map<std::string_view, const Value*> last_;  // name → its last member's value
};

}  // namespace warden::json
