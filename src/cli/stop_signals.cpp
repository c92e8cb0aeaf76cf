#include "stop_signals.hpp"

#include <atomic>
#include <csignal>
#include <thread>
#include <unistd.h>

namespace warden::cli {
namespace {

std::atomic<bool> stop_seen{false};
std::atomic<const detail::StopTarget*> stop_target{nullptr};

extern "C" void handle_stop_signal(int) {
    if (stop_seen.exchange(true)) _exit(130);  // the operator insists
    if (const detail::StopTarget* target = stop_target.load()) target->request_stop(target->runner);
}

}  // namespace

void install_stop_signals() {
    struct sigaction action {};
    action.sa_handler = handle_stop_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
}

bool stop_requested() { return stop_seen.load(); }

bool sleep_unless_stopped(std::chrono::milliseconds how_long) {
    const auto until = std::chrono::steady_clock::now() + how_long;
    while (!stop_requested() && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
            std::chrono::milliseconds(50), until - std::chrono::steady_clock::now()));
    }
    return !stop_requested();
}

namespace detail {

void attach_stop_target(const StopTarget* target) {
    stop_target.store(target);
    // A signal that came before the runner existed reaches it now.
    if (target && stop_requested()) target->request_stop(target->runner);
}

}  // namespace detail
}  // namespace warden::cli
