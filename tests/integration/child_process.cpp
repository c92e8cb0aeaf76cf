// Process plumbing of the integration tests: temp directories, child processes, polling.
#include "kafka_test_support.hpp"

#include "../support/slowdown.hpp"

#include <rapidjson/document.h>

#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace itest {

std::string warden_path;

Clock::duration scaled(Clock::duration bound) {
    return std::chrono::duration_cast<Clock::duration>(bound * test::slowdown());
}

bool wait_until(const std::function<bool()>& done, Clock::duration timeout, Clock::duration interval) {
    const auto deadline = Clock::now() + scaled(timeout);
    for (;;) {
        if (done()) return true;
        if (Clock::now() >= deadline) return false;
        std::this_thread::sleep_for(interval);
    }
}

TempDir::TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "warden-itest-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
    path_ = pattern;
}

TempDir::~TempDir() {
    if (const char* keep = std::getenv("WARDEN_ITEST_KEEP"); keep && *keep && std::string_view(keep) != "0") {
        std::fprintf(stderr, "kept %s\n", path_.c_str());
        return;
    }
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

namespace {

std::string read_text(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

int open_output(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw std::runtime_error("cannot create " + path.string() + ": " + std::strerror(errno));
    return fd;
}

}  // namespace

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const std::filesystem::path& output_prefix)
    : stdout_path_(output_prefix.string() + ".stdout"), stderr_path_(output_prefix.string() + ".stderr") {
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    const int out = open_output(stdout_path_);
    const int err = open_output(stderr_path_);
    const pid_t parent = ::getpid();

    pid_ = ::fork();
    if (pid_ == 0) {
        // Only async-signal-safe calls until exec: librdkafka threads run in the parent.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a test process that died
        if (::getppid() != parent) ::_exit(127);
        ::dup2(out, STDOUT_FILENO);
        ::dup2(err, STDERR_FILENO);
        // Broker and client sockets of the parent must not live on in the worker.
        ::close_range(3, ~0U, 0);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    ::close(out);
    ::close(err);
    if (pid_ < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
}

ChildProcess::~ChildProcess() {
    if (pid_ > 0 && !exit_code_) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
}

void ChildProcess::send(int signal) {
    if (!exit_code_) ::kill(pid_, signal);
}

std::optional<int> ChildProcess::wait_exit(Clock::duration timeout) {
    wait_until(
        [&] {
            int status = 0;
            if (exit_code_ || ::waitpid(pid_, &status, WNOHANG) != pid_) return exit_code_.has_value();
            exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            return true;
        },
        timeout, 10ms);
    return exit_code_;
}

bool ChildProcess::wait_for_stderr(std::string_view text, Clock::duration timeout) const {
    return wait_until([&] { return stderr_text().find(text) != std::string::npos; }, timeout, 100ms);
}

std::string ChildProcess::stdout_text() const { return read_text(stdout_path_); }
std::string ChildProcess::stderr_text() const { return read_text(stderr_path_); }

std::string ChildProcess::stderr_tail(size_t lines) const {
    const std::string text = stderr_text();
    size_t start = text.size();
    for (size_t seen = 0; start > 0 && seen <= lines;) {
        if (text[--start] == '\n') ++seen;
    }
    return text.substr(start);
}

bool wait_for_assignment(const ChildProcess& worker, Clock::duration timeout) {
    static constexpr std::string_view marker = R"("msg":"partitions assigned","partitions":")";
    return wait_until(
        [&] {
            const std::string log = worker.stderr_text();
            for (size_t at = log.find(marker); at != std::string::npos; at = log.find(marker, at + 1)) {
                const size_t first = at + marker.size();
                if (first < log.size() && std::isdigit(static_cast<unsigned char>(log[first]))) return true;
            }
            return false;
        },
        timeout, 100ms);
}

int64_t summary_consumed(const std::string& stdout_text) {
    const size_t end = stdout_text.find_last_not_of("\r\n");
    if (end == std::string::npos) return -1;
    const size_t newline = stdout_text.rfind('\n', end);
    const size_t start = newline == std::string::npos ? 0 : newline + 1;
    const std::string line = stdout_text.substr(start, end + 1 - start);
    rapidjson::Document summary;
    summary.Parse(line.c_str(), line.size());
    if (summary.HasParseError() || !summary.IsObject() || !summary.HasMember("consumed") ||
        !summary["consumed"].IsUint64()) {
        return -1;
    }
    return static_cast<int64_t>(summary["consumed"].GetUint64());
}

}  // namespace itest
