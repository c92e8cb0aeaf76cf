// SIGINT/SIGTERM handling, declared once for every command that stops gracefully.
#pragma once

#include <chrono>

namespace warden::cli {

// Stop signals of the commands that stop gracefully (run, replay, demo). Installed first, before
// any setup, so a SIGINT/SIGTERM during start-up is never lost: the first asks the command to
// stop, a second exits at once with status 130.
void install_stop_signals();
// Whether a stop signal came.
bool stop_requested();
// Sleeps up to `how_long`, waking early on a stop signal; false when one came.
bool sleep_unless_stopped(std::chrono::milliseconds how_long);

namespace detail {
struct StopTarget {
    void* runner;
    void (*request_stop)(void*);
};
void attach_stop_target(const StopTarget* target);  // nullptr detaches
}  // namespace detail

// While alive, a stop signal (or one that came before) calls runner.request_stop(), which must be
// async-signal-safe (an atomic store).
template <typename Runner>
class StopOnSignal {
public:
    explicit StopOnSignal(Runner& runner) : target_{&runner, [](void* r) { static_cast<Runner*>(r)->request_stop(); }} {
        detail::attach_stop_target(&target_);
    }
    ~StopOnSignal() { detail::attach_stop_target(nullptr); }
    StopOnSignal(const StopOnSignal&) = delete;
    StopOnSignal& operator=(const StopOnSignal&) = delete;

private:
    detail::StopTarget target_;
};

}  // namespace warden::cli
