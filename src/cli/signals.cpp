#include "commands.hpp"

#include <atomic>
#include <csignal>
#include <unistd.h>

namespace warden::cli {
namespace {

std::atomic<void (*)()> stop_callback{nullptr};
std::atomic<bool> stop_seen{false};

extern "C" void handle_stop_signal(int) {
    if (stop_seen.exchange(true)) _exit(130);  // the operator insists
    if (auto callback = stop_callback.load()) callback();
}

}  // namespace

void on_stop_signal(void (*on_stop)()) {
    stop_callback.store(on_stop);
    struct sigaction action {};
    action.sa_handler = handle_stop_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
}

}  // namespace warden::cli
