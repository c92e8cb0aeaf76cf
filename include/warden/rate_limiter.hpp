// rate_limiter: a token bucket, for capping store queries and replay rates.
#pragma once

#include <algorithm>
#include <chrono>

namespace warden {

// `rate` permits per second with bursts of up to `burst`. Pure arithmetic on the times it is
// given, so tests drive it with a controlled clock.
class RateLimiter {
public:
    using Clock = std::chrono::steady_clock;

    RateLimiter(double rate_per_second, double burst)
        : rate_(rate_per_second), burst_(std::max(burst, 1.0)), tokens_(burst_) {}

    // Takes `n` permits at `now` and returns how long the caller must wait before going ahead
    // (zero when permits were available). The permits are taken either way: waiting pays the debt.
    std::chrono::nanoseconds acquire(Clock::time_point now, double n = 1) {
        if (rate_ <= 0) return std::chrono::nanoseconds(0);  // unlimited
        if (started_) {
            const double elapsed = std::chrono::duration<double>(now - last_).count();
            if (elapsed > 0) tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
        }
        started_ = true;
        last_ = std::max(last_, now);
        tokens_ -= n;
        if (tokens_ >= 0) return std::chrono::nanoseconds(0);
        return std::chrono::nanoseconds(static_cast<int64_t>(-tokens_ / rate_ * 1e9));
    }

private:
    double rate_;
    double burst_;
    double tokens_;
    bool started_ = false;
    Clock::time_point last_{};
};

}  // namespace warden
