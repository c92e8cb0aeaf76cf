// log: one JSON object per line on stderr, with level, message and context fields. Secret
// ("phs_…") and personal ("phx_…") keys, and the credentials warden was given, are redacted in
// every line; a warning or error repeated
// with the same message is written at most once a second.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace warden::log {

enum class Level { debug, info, warn, error };

using Field = std::pair<std::string_view, std::string>;

// Lines below this level are skipped. Default: info.
void set_min_level(Level level);
bool enabled(Level level);

// Writes {"ts":...,"level":...,"msg":...,<fields>} as one line (a single write, so lines of
// concurrent threads never interleave).
void write(Level level, std::string_view message, std::initializer_list<Field> fields = {});

// The line write() would emit, with `suppressed` repeats noted when positive.
std::string format(Level level, std::string_view message, std::initializer_list<Field> fields, int64_t suppressed = 0);

// Credentials warden was given (a database password, SASL or TLS secrets) that must never reach
// a log line or an error message: every line has them replaced by "[redacted]", whatever wrote
// it. Register each as soon as it is read, before anything can log it.
void add_sensitive_value(std::string_view value);
void clear_sensitive_values();  // tests

// `text` with registered credentials and secret/personal keys redacted, as every log line is:
// for error messages that are printed outside the log.
std::string redact(std::string_view text);

// While alive, every line the constructing thread writes carries `name: value` too (which member
// of `run --threads` wrote it, say). One per thread: a nested one replaces the outer until it ends.
class ThreadField {
public:
    ThreadField(std::string_view name, std::string value);
    ~ThreadField();
    ThreadField(const ThreadField&) = delete;
    ThreadField& operator=(const ThreadField&) = delete;

private:
    std::string name_;
    std::string value_;
    const ThreadField* outer_;
    friend std::string format(Level, std::string_view, std::initializer_list<Field>, int64_t);
};

// Same-message warnings and errors closer together than this are held back. Default 1 s.
void set_repeat_interval(std::chrono::milliseconds interval);

// Where lines go instead of stderr (tests); null restores stderr.
using Sink = void (*)(const std::string& line);
void set_sink(Sink sink);

inline void debug(std::string_view m, std::initializer_list<Field> f = {}) { write(Level::debug, m, f); }
inline void info(std::string_view m, std::initializer_list<Field> f = {}) { write(Level::info, m, f); }
inline void warn(std::string_view m, std::initializer_list<Field> f = {}) { write(Level::warn, m, f); }
inline void error(std::string_view m, std::initializer_list<Field> f = {}) { write(Level::error, m, f); }

}  // namespace warden::log
