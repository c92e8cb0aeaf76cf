// How much slower than a release build the tests run: WARDEN_TEST_SLOWDOWN, set by the sanitizer
// scripts (ThreadSanitizer runs code several times slower). Scales the few time bounds the tests
// hold the code to, and how long the integration tests wait for things; 1 when unset.
#pragma once

#include <cstdlib>

namespace test {

inline double slowdown() {
    const char* text = std::getenv("WARDEN_TEST_SLOWDOWN");
    const double factor = text ? std::atof(text) : 1.0;
    return factor >= 1.0 ? factor : 1.0;
}

}  // namespace test
