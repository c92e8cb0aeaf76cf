#include <warden/crash_report.hpp>

#include <doctest/doctest.h>

#include <csignal>
#include <cstdlib>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

struct Crash {
    int signal = 0;  // that ended the child, 0 when it exited
    std::string stderr_text;
};

// Runs `crash` in a child process with the crash report installed, without a core dump.
template <typename Crashing>
Crash crash_in_child(Crashing crash) {
    int pipe_fds[2];
    REQUIRE(::pipe(pipe_fds) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::dup2(pipe_fds[1], STDERR_FILENO);
        ::close(pipe_fds[0]);
        const rlimit no_core{0, 0};
        ::setrlimit(RLIMIT_CORE, &no_core);
        warden::crash_report::install();
        crash();
        ::_exit(0);
    }
    ::close(pipe_fds[1]);
    Crash result;
    char buffer[4096];
    for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0;) result.stderr_text.append(buffer, n);
    ::close(pipe_fds[0]);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
    return result;
}

}  // namespace

TEST_CASE("crash report: an abort prints the signal and the stack, then ends the process as before") {
    if (!warden::crash_report::supported()) {
        MESSAGE("skipped: sanitizer builds keep their own crash reports");
        return;
    }
    const Crash crash = crash_in_child([] { std::abort(); });
    INFO("child stderr:\n" << crash.stderr_text);
    CHECK(crash.signal == SIGABRT);
    CHECK(crash.stderr_text.find(R"("msg":"crashed; the stack of the crashing thread follows","signal":"SIGABRT")") !=
          std::string::npos);
    // backtrace_symbols_fd frames: "object(symbol+offset)[address]", abort among them.
    CHECK(crash.stderr_text.find("abort") != std::string::npos);
    CHECK(crash.stderr_text.find(")[0x") != std::string::npos);
}

TEST_CASE("crash report: a segmentation fault is reported as one") {
    if (!warden::crash_report::supported()) return;
    const Crash crash = crash_in_child([] { ::raise(SIGSEGV); });
    INFO("child stderr:\n" << crash.stderr_text);
    CHECK(crash.signal == SIGSEGV);
    CHECK(crash.stderr_text.find(R"("signal":"SIGSEGV")") != std::string::npos);
}

TEST_CASE("crash report: without a crash nothing is printed") {
    if (!warden::crash_report::supported()) return;
    const Crash crash = crash_in_child([] {});
    CHECK(crash.signal == 0);
    CHECK(crash.stderr_text.empty());
}
