// The throwaway server's settings, exported by tests/support/with_postgres.sh.
#pragma once

#include <cstdlib>
#include <stdexcept>
#include <string>

namespace pgtest {

inline std::string env(const char* name) {
    const char* value = std::getenv(name);
    if (!value) throw std::runtime_error(std::string(name) + " is not set: run under tests/support/with_postgres.sh");
    return value;
}

}  // namespace pgtest
