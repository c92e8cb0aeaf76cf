// log: one JSON object per line on stderr, with level, message and context fields.
#pragma once

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

inline void debug(std::string_view m, std::initializer_list<Field> f = {}) { write(Level::debug, m, f); }
inline void info(std::string_view m, std::initializer_list<Field> f = {}) { write(Level::info, m, f); }
inline void warn(std::string_view m, std::initializer_list<Field> f = {}) { write(Level::warn, m, f); }
inline void error(std::string_view m, std::initializer_list<Field> f = {}) { write(Level::error, m, f); }

}  // namespace warden::log
