#include <warden/log.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <unordered_map>
#include <unistd.h>

namespace warden::log {
namespace {

std::atomic<int> min_level{static_cast<int>(Level::info)};

constexpr std::string_view level_name(Level level) {
    switch (level) {
        case Level::debug: return "debug";
        case Level::info: return "info";
        case Level::warn: return "warn";
        case Level::error: return "error";
    }
    return "info";
}

// Secret and personal keys never reach a log line, whatever wrote the text (warden, librdkafka,
// libpq): "phs_…" and "phx_…" keep their prefix and lose the rest, up to a character that cannot
// be part of an issued key (space, quotes, separators of URLs and lists).
bool token_char(unsigned char c) {
    constexpr std::string_view stops = "\"'\\,;&?#/=()[]{}<>";
    return c > 0x20 && c < 0x7f && stops.find(static_cast<char>(c)) == std::string_view::npos;
}

void append_escaped_redacted(std::string& out, std::string_view text) {
    out += '"';
    for (size_t i = 0; i < text.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(text[i]);
        if (c == 'p' && i + 4 < text.size() && text[i + 1] == 'h' && (text[i + 2] == 's' || text[i + 2] == 'x') &&
            text[i + 3] == '_' && token_char(static_cast<unsigned char>(text[i + 4]))) {
            out.append(text.substr(i, 4));
            out += "[redacted]";
            i += 4;
            while (i + 1 < text.size() && token_char(static_cast<unsigned char>(text[i + 1]))) ++i;
            continue;
        }
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else {
            out += static_cast<char>(c);
        }
    }
    out += '"';
}

std::string timestamp() {
    const auto now = std::chrono::system_clock::now();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char buf[96];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                  utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(ms % 1000));
    return buf;
}

// Warnings and errors with the same message are written at most once per interval; the next line
// that goes out says how many were held back.
class RepeatLimiter {
public:
    // How many lines were suppressed since the last one written, or -1 to suppress this one.
    int64_t admit(std::string_view message) {
        const auto now = std::chrono::steady_clock::now();
        std::lock_guard lock(mutex_);
        if (seen_.size() > 10'000) seen_.clear();  // bounded, whatever the messages
        auto [it, fresh] = seen_.try_emplace(std::string(message));
        State& s = it->second;
        if (!fresh && now - s.last < interval_) {
            ++s.suppressed;
            return -1;
        }
        s.last = now;
        return std::exchange(s.suppressed, 0);
    }
    void set_interval(std::chrono::milliseconds interval) {
        std::lock_guard lock(mutex_);
        interval_ = interval;
        seen_.clear();
    }

private:
    struct State {
        std::chrono::steady_clock::time_point last{};
        int64_t suppressed = 0;
    };
    std::mutex mutex_;
    std::chrono::milliseconds interval_{1000};
    std::unordered_map<std::string, State> seen_;
};

RepeatLimiter& repeats() {
    static RepeatLimiter limiter;
    return limiter;
}

std::atomic<Sink> sink{nullptr};

}  // namespace

void set_min_level(Level level) { min_level.store(static_cast<int>(level)); }

bool enabled(Level level) { return static_cast<int>(level) >= min_level.load(std::memory_order_relaxed); }

void set_repeat_interval(std::chrono::milliseconds interval) { repeats().set_interval(interval); }

void set_sink(Sink s) { sink.store(s); }

std::string format(Level level, std::string_view message, std::initializer_list<Field> fields, int64_t suppressed) {
    std::string line = "{\"ts\":\"" + timestamp() + "\",\"level\":\"";
    line += level_name(level);
    line += "\",\"msg\":";
    append_escaped_redacted(line, message);
    for (const Field& field : fields) {
        line += ',';
        append_escaped_redacted(line, field.first);
        line += ':';
        append_escaped_redacted(line, field.second);
    }
    if (suppressed > 0) line += ",\"suppressed_repeats\":" + std::to_string(suppressed);
    line += "}\n";
    return line;
}

void write(Level level, std::string_view message, std::initializer_list<Field> fields) {
    if (!enabled(level)) return;
    int64_t suppressed = 0;
    if (level >= Level::warn) {
        suppressed = repeats().admit(message);
        if (suppressed < 0) return;
    }
    const std::string line = format(level, message, fields, suppressed);
    if (Sink s = sink.load()) {
        s(line);
        return;
    }
    // One write(2) per line keeps lines whole when threads log at once.
    for (size_t done = 0; done < line.size();) {
        const ssize_t n = ::write(STDERR_FILENO, line.data() + done, line.size() - done);
        if (n <= 0) return;
        done += static_cast<size_t>(n);
    }
}

}  // namespace warden::log
