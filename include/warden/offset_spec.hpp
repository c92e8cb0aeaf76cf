// offset_spec: where a replay range starts or ends.
#pragma once

#include <cstdint>
#include <string_view>

namespace warden {

// Where a replay range starts or ends (SPEC §8).
struct OffsetSpec {
    enum class Kind { earliest, latest, offset, timestamp };
    Kind kind = Kind::earliest;
    int64_t value = 0;  // the offset, or epoch milliseconds
};

// `earliest`, `latest`, an offset, or a time: ISO 8601 UTC (`2024-06-10T06:13:20Z`, optional
// fraction, `Z` or `±hh:mm`) or epoch milliseconds. A bare number below 10^12 is an offset, from
// 10^12 on epoch milliseconds; `offset:N` and `time:MS` say it explicitly. Throws
// std::invalid_argument naming the text.
OffsetSpec parse_offset_spec(std::string_view text);

}  // namespace warden
