#include <warden/offset_spec.hpp>

#include <charconv>
#include <ctime>
#include <optional>
#include <stdexcept>

namespace warden {
namespace {

constexpr int64_t epoch_ms_threshold = 1'000'000'000'000;  // 2001-09-09: smaller numbers are offsets

std::optional<int64_t> parse_integer(std::string_view text) {
    int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
    return value;
}

// Reads `width` digits at `at`, advancing it.
std::optional<int> digits(std::string_view text, size_t& at, size_t width) {
    if (at + width > text.size()) return std::nullopt;
    int value = 0;
    for (size_t i = 0; i < width; ++i) {
        const char c = text[at + i];
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + (c - '0');
    }
    at += width;
    return value;
}

bool expect(std::string_view text, size_t& at, char c) {
    if (at >= text.size() || text[at] != c) return false;
    ++at;
    return true;
}

// YYYY-MM-DDTHH:MM:SS[.fraction](Z|±hh:mm) as epoch milliseconds.
std::optional<int64_t> parse_iso8601(std::string_view text) {
    size_t at = 0;
    auto year = digits(text, at, 4);
    if (!year || !expect(text, at, '-')) return std::nullopt;
    auto month = digits(text, at, 2);
    if (!month || !expect(text, at, '-')) return std::nullopt;
    auto day = digits(text, at, 2);
    if (!day || !(expect(text, at, 'T') || expect(text, at, 't') || expect(text, at, ' '))) return std::nullopt;
    auto hour = digits(text, at, 2);
    if (!hour || !expect(text, at, ':')) return std::nullopt;
    auto minute = digits(text, at, 2);
    if (!minute || !expect(text, at, ':')) return std::nullopt;
    auto second = digits(text, at, 2);
    if (!second) return std::nullopt;
    int64_t millis = 0;
    if (expect(text, at, '.')) {
        int scale = 100, seen = 0;
        while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
            millis += int64_t{text[at] - '0'} * scale;
            scale /= 10;
            ++at;
            ++seen;
        }
        if (seen == 0) return std::nullopt;
    }
    int64_t offset_minutes = 0;
    if (expect(text, at, 'Z') || expect(text, at, 'z')) {
    } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
        const int sign = text[at++] == '-' ? -1 : 1;
        auto oh = digits(text, at, 2);
        if (!oh || !expect(text, at, ':')) return std::nullopt;
        auto om = digits(text, at, 2);
        if (!om) return std::nullopt;
        offset_minutes = int64_t{sign} * (*oh * 60 + *om);
    } else {
        return std::nullopt;  // a time without a zone is ambiguous
    }
    if (at != text.size() || *month < 1 || *month > 12 || *day < 1 || *day > 31 || *hour > 23 || *minute > 59 ||
        *second > 60) {
        return std::nullopt;
    }
    std::tm tm{};
    tm.tm_year = *year - 1900;
    tm.tm_mon = *month - 1;
    tm.tm_mday = *day;
    tm.tm_hour = *hour;
    tm.tm_min = *minute;
    tm.tm_sec = *second;
    const int64_t seconds = static_cast<int64_t>(timegm(&tm)) - offset_minutes * 60;
    return seconds * 1000 + millis;
}

}  // namespace

OffsetSpec parse_offset_spec(std::string_view text) {
    using Kind = OffsetSpec::Kind;
    if (text == "earliest") return {Kind::earliest, 0};
    if (text == "latest") return {Kind::latest, 0};
    if (text.starts_with("offset:")) {
        if (auto v = parse_integer(text.substr(7))) return {Kind::offset, *v};
    } else if (text.starts_with("time:")) {
        if (auto v = parse_integer(text.substr(5))) return {Kind::timestamp, *v};
    } else if (auto v = parse_integer(text)) {
        return {*v < epoch_ms_threshold ? Kind::offset : Kind::timestamp, *v};
    } else if (auto ms = parse_iso8601(text)) {
        return {Kind::timestamp, *ms};
    }
    throw std::invalid_argument("not a position: '" + std::string(text) +
                                "' (use earliest, latest, an offset, epoch milliseconds or an ISO 8601 time "
                                "such as 2024-06-10T06:13:20Z)");
}

}  // namespace warden
