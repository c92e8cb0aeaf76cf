// The token bucket that caps team store queries.
#include <warden/rate_limiter.hpp>

#include <doctest/doctest.h>

#include <chrono>

using warden::RateLimiter;
using namespace std::chrono_literals;

TEST_CASE("rate limiter: permits, bursts and waits follow the rate") {
    using Clock = RateLimiter::Clock;
    const Clock::time_point t0{};
    RateLimiter limiter(100, 10);  // 100/s, bursts of 10
    for (int i = 0; i < 10; ++i) CHECK(limiter.acquire(t0).count() == 0);
    CHECK(limiter.acquire(t0) == 10ms);  // one permit short: 1/100 s
    CHECK(limiter.acquire(t0) == 20ms);  // debts add up
    // After 30 ms the debt of 2 is paid and one permit accrued.
    CHECK(limiter.acquire(t0 + 30ms).count() == 0);
    // A long idle time refills only up to the burst.
    for (int i = 0; i < 10; ++i) CHECK(limiter.acquire(t0 + 10s).count() == 0);
    CHECK(limiter.acquire(t0 + 10s) == 10ms);
    // Taking many at once: 50 permits on an empty bucket wait half a second.
    RateLimiter bulk(100, 1);
    CHECK(bulk.acquire(t0, 1).count() == 0);
    CHECK(bulk.acquire(t0, 50) == 500ms);
    // A clock going backwards never creates permits.
    CHECK(bulk.acquire(t0 - 1s, 1) == 510ms);
    // Zero means unlimited.
    RateLimiter unlimited(0, 1);
    for (int i = 0; i < 1000; ++i) CHECK(unlimited.acquire(t0).count() == 0);
}
