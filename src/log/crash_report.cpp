#include <warden/crash_report.hpp>

#include <execinfo.h>

#include <array>
#include <csignal>
#include <cstring>
#include <unistd.h>

namespace warden::crash_report {
namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool sanitizer_build = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(undefined_behavior_sanitizer)
constexpr bool sanitizer_build = true;
#else
constexpr bool sanitizer_build = false;
#endif
#else
constexpr bool sanitizer_build = false;
#endif

constexpr std::array<int, 5> fatal_signals = {SIGABRT, SIGSEGV, SIGBUS, SIGILL, SIGFPE};

const char* signal_name(int signal) {
    switch (signal) {
        case SIGABRT: return "SIGABRT";
        case SIGSEGV: return "SIGSEGV";
        case SIGBUS: return "SIGBUS";
        case SIGILL: return "SIGILL";
        case SIGFPE: return "SIGFPE";
        default: return "?";
    }
}

// Only async-signal-safe calls from here on: write(2), and backtrace(3), whose one allocation
// (loading libgcc) install() makes beforehand.
void put(const char* text) {
    size_t left = std::strlen(text);
    while (left > 0) {
        const ssize_t n = ::write(STDERR_FILENO, text, left);
        if (n <= 0) return;
        text += n;
        left -= static_cast<size_t>(n);
    }
}

void on_fatal_signal(int signal) {
    put(R"({"level":"error","msg":"crashed; the stack of the crashing thread follows","signal":")");
    put(signal_name(signal));
    put("\"}\n");
    std::array<void*, 64> frames{};
    const int count = ::backtrace(frames.data(), static_cast<int>(frames.size()));
    ::backtrace_symbols_fd(frames.data(), count, STDERR_FILENO);
    // SA_RESETHAND restored the default action: the signal, raised again, ends the process as it
    // would have without this handler.
    ::raise(signal);
}

}  // namespace

bool supported() { return !sanitizer_build; }

void install() {
    if (sanitizer_build) return;
    static const bool installed = [] {
        std::array<void*, 1> warm_up{};
        ::backtrace(warm_up.data(), 1);
        struct sigaction action {};
        action.sa_handler = &on_fatal_signal;
        sigemptyset(&action.sa_mask);
        action.sa_flags = SA_RESETHAND | SA_NODEFER;
        for (int signal : fatal_signals) ::sigaction(signal, &action, nullptr);
        return true;
    }();
    (void)installed;
}

}  // namespace warden::crash_report
