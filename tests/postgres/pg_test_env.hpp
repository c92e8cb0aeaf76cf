// The throwaway server's settings, exported by tests/support/with_postgres.sh.
#pragma once

#include <warden/teams.hpp>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>

namespace pgtest {

inline std::string env(const char* name) {
    const char* value = std::getenv(name);
    if (!value) throw std::runtime_error(std::string(name) + " is not set: run under tests/support/with_postgres.sh");
    return value;
}

// Milliseconds until `pred` holds, applying store notifications the way each batch does; 1e9 when
// it did not within `limit`.
inline double millis_until(warden::TeamCache& cache, const std::function<bool()>& pred,
                           std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
    const auto start = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - start < limit) {
        cache.apply_store_changes();
        if (pred()) return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return 1e9;
}

}  // namespace pgtest
