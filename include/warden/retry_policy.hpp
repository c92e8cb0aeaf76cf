// retry_policy: when to try again after a dependency failed, and when to give up.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace warden {

// Backoff for an operation that waits for an outside service: the delay doubles from
// `first_delay` up to `max_delay`; with `give_up_after`, no attempt is made once the failures have
// lasted that long (the last one falls on the deadline). An outage runs from the first failure to
// the next success; a success starts the next outage afresh.
class RetryPolicy {
public:
    using Clock = std::chrono::steady_clock;

    struct Options {
        std::chrono::milliseconds first_delay{100};
        std::chrono::milliseconds max_delay{5000};
        std::optional<std::chrono::milliseconds> give_up_after;  // none: retry for ever
        // While an outage lasts, its cause is reported again this often (see report_due).
        std::chrono::milliseconds report_interval{30'000};

        // The default backoff, giving up once the failures have lasted `limit`.
        static Options giving_up_after(std::chrono::milliseconds limit) {
            Options o;
            o.give_up_after = limit;
            return o;
        }
        // The wait after `failures` earlier failures of one operation: first_delay doubled that
        // many times, at most max_delay.
        std::chrono::milliseconds delay_after(uint32_t failures) const {
            std::chrono::milliseconds wait = first_delay;
            for (uint32_t i = 0; i < failures && wait < max_delay; ++i) wait *= 2;
            return std::min(wait, max_delay);
        }
        // Doubling from `first` up to `max`, never giving up.
        static Options doubling(std::chrono::milliseconds first, std::chrono::milliseconds max) {
            Options o;
            o.first_delay = first;
            o.max_delay = max;
            return o;
        }
    };

    RetryPolicy() = default;
    explicit RetryPolicy(Options options) : options_(options) {}

    // Records a failure at `now`. Returns the wait before the next attempt, or nothing when the
    // outage has lasted `give_up_after`: the caller gives up.
    std::optional<std::chrono::milliseconds> failed(Clock::time_point now) {
        if (failures_ == 0) outage_started_ = now;
        const std::chrono::milliseconds wait =
            options_.delay_after(static_cast<uint32_t>(std::min<uint64_t>(failures_++, 64)));
        if (!options_.give_up_after) return wait;
        const Clock::time_point deadline = outage_started_ + *options_.give_up_after;
        if (now >= deadline) return std::nullopt;
        return std::min(wait, std::chrono::ceil<std::chrono::milliseconds>(deadline - now));
    }

    void succeeded() {
        failures_ = 0;
        reported_cause_.reset();
    }

    bool failing() const { return failures_ > 0; }
    uint64_t failures() const { return failures_; }
    // How long the current outage has lasted; zero when not failing.
    Clock::duration outage(Clock::time_point now) const {
        return failing() ? now - outage_started_ : Clock::duration{};
    }

    // Whether a failure with this cause is worth a log line: the first of an outage, one whose cause
    // differs from the last reported, and otherwise one per report interval. Keeps a long outage
    // from writing a line per retry while every change still shows.
    bool report_due(Clock::time_point now, std::string_view cause) {
        if (reported_cause_ && *reported_cause_ == cause && now - reported_at_ < options_.report_interval) return false;
        reported_cause_ = std::string(cause);
        reported_at_ = now;
        return true;
    }

    const Options& options() const { return options_; }

private:
    Options options_;
    uint64_t failures_ = 0;
    Clock::time_point outage_started_{};
    std::optional<std::string> reported_cause_;
    Clock::time_point reported_at_{};
};

}  // namespace warden
