#include <warden/json_text.hpp>
#include <warden/log.hpp>
#include <warden/redaction.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <deque>
#include <mutex>
#include <unistd.h>
#include <unordered_map>
#include <vector>

namespace warden::log {
namespace {

std::atomic<int> min_level{static_cast<int>(Level::info)};

thread_local const ThreadField* thread_field = nullptr;

constexpr std::string_view level_name(Level level) {
    switch (level) {
        case Level::debug: return "debug";
        case Level::info: return "info";
        case Level::warn: return "warn";
        case Level::error: return "error";
    }
    return "info";
}

// Credentials given to warden (database password, SASL and TLS secrets). Where two overlap, the
// longest match at the earliest position is replaced whole.
class SensitiveValues {
public:
    void add(std::string_view value) {
        if (value.empty()) return;
        std::lock_guard lock(mutex_);
        if (std::find(values_.begin(), values_.end(), value) != values_.end()) return;
        values_.emplace_back(value);
        views_.assign(values_.begin(), values_.end());
    }
    // Every registered value and every secret or personal key (which keeps its prefix).
    void redact(std::string& text) const {
        std::lock_guard lock(mutex_);
        redaction::redact(text, views_, redaction::KeyForm::keep_prefix);
    }
    void clear() {
        std::lock_guard lock(mutex_);
        values_.clear();
        views_.clear();
    }

private:
    mutable std::mutex mutex_;
    std::deque<std::string> values_;  // a deque: adding one moves none, so the views stay valid
    std::vector<std::string_view> views_;
};

// Never destroyed, like the limiter below: a Kafka client left running until the process exits
// (kafka::keep_until_exit) may still log while static objects are being torn down.
SensitiveValues& sensitive_values() {
    static auto* values = new SensitiveValues;
    return *values;
}

void append_escaped_redacted(std::string& out, std::string_view text) { json::append_json_string(out, redact(text)); }

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
    static auto* limiter = new RepeatLimiter;
    return *limiter;
}

std::atomic<Sink> sink{nullptr};

}  // namespace

std::string redact(std::string_view text) {
    std::string out(text);
    sensitive_values().redact(out);
    return out;
}

void add_sensitive_value(std::string_view value) { sensitive_values().add(value); }

void clear_sensitive_values() { sensitive_values().clear(); }

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
    if (const ThreadField* extra = thread_field) {
        line += ',';
        append_escaped_redacted(line, extra->name_);
        line += ':';
        append_escaped_redacted(line, extra->value_);
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

ThreadField::ThreadField(std::string_view name, std::string value)
    : name_(name), value_(std::move(value)), outer_(thread_field) {
    thread_field = this;
}

ThreadField::~ThreadField() { thread_field = outer_; }

}  // namespace warden::log
