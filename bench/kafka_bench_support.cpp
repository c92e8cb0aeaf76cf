#include "kafka_bench_support.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string_view>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

namespace kafka_bench {
namespace {

constexpr const char* result_tag = "kafka_bench_result";

[[noreturn]] void usage(const std::string& why) {
    std::fprintf(stderr,
                 "kafka_bench: %s\n"
                 "usage: kafka_bench [--events N] [--partitions P] [--teams T] [--seed S] [--mode all|MODE]\n"
                 "                   [--consumer-property name=value]... [--producer-property name=value]...\n"
                 "                   [--rounds R] [--timeout SECONDS] [--progress-ms MS] [--brokers HOST:PORT,...]\n"
                 "Preloads an input topic and runs each mode (passthrough, warden) R times, alternating, each run\n"
                 "in a child process, then reports the median run of each mode. Without --brokers the topics live\n"
                 "in librdkafka's mock cluster in this process; with it, on that cluster, created for the run and\n"
                 "deleted afterwards.\n",
                 why.c_str());
    std::exit(2);
}

unsigned long long number(const char* text) {
    char* end = nullptr;
    const unsigned long long v = std::strtoull(text, &end, 10);
    if (end == text || *end != '\0') usage(std::string("not a number: ") + text);
    return v;
}

// CPU seconds all processes of the machine spent busy since boot (/proc/stat).
double machine_busy_seconds() {
    std::ifstream stat("/proc/stat");
    std::string cpu;
    unsigned long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
    stat >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
    return static_cast<double>(user + nice + system + irq + softirq + steal) /
           static_cast<double>(sysconf(_SC_CLK_TCK));
}

double seconds_of(const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6; }

}  // namespace

Options parse_args(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string_view flag = argv[i];
        if (i + 1 >= argc) usage("missing value after " + std::string(flag));
        const char* value = argv[++i];
        try {
            if (flag == "--events") o.events = number(value);
            else if (flag == "--partitions") o.partitions = static_cast<int>(number(value));
            else if (flag == "--teams") o.teams = static_cast<int>(number(value));
            else if (flag == "--seed") o.seed = number(value);
            else if (flag == "--timeout") o.timeout_seconds = static_cast<double>(number(value));
            else if (flag == "--rounds") o.rounds = static_cast<int>(number(value));
            else if (flag == "--progress-ms") o.progress_ms = static_cast<int>(number(value));
            else if (flag == "--mode") o.mode = value;
            else if (flag == "--brokers") o.brokers = value;
            else if (flag == "--run") o.run = value;
            else if (flag == "--group") o.group = value;
            else if (flag == "--topic-prefix") o.topic_prefix = value;
            else if (flag == "--processing-guarantee") o.exactly_once = std::string_view(value) == "exactly-once";
            else if (flag == "--threads") o.threads = static_cast<unsigned>(number(value));
            else if (flag == "--consumer-property")
                o.consumer_properties.push_back(warden::parse_kafka_property(value));
            else if (flag == "--producer-property")
                o.producer_properties.push_back(warden::parse_kafka_property(value));
            else usage("unknown flag " + std::string(flag));
        } catch (const std::invalid_argument& e) {
            usage(e.what());
        }
    }
    if (o.events == 0 || o.teams < 1 || o.partitions < 0 || o.rounds < 1 || o.timeout_seconds <= 0 || o.threads < 1)
        usage("values must be positive");
    if (!o.run.empty() && (o.brokers.empty() || o.group.empty())) usage("--run needs --brokers and --group");
    return o;
}

std::vector<std::string> child_args(const Options& o, const ChildRun& run) {
    std::vector<std::string> args = {"kafka_bench",
                                     "--run",
                                     run.mode,
                                     "--brokers",
                                     run.brokers,
                                     "--group",
                                     run.group,
                                     "--topic-prefix",
                                     run.topic_prefix,
                                     "--events",
                                     std::to_string(o.events),
                                     "--teams",
                                     std::to_string(o.teams),
                                     "--timeout",
                                     std::to_string(static_cast<long long>(o.timeout_seconds)),
                                     "--progress-ms",
                                     std::to_string(o.progress_ms)};
    for (const auto& [name, value] : o.consumer_properties) {
        args.emplace_back("--consumer-property");
        args.push_back(name + "=" + value);
    }
    for (const auto& [name, value] : o.producer_properties) {
        args.emplace_back("--producer-property");
        args.push_back(name + "=" + value);
    }
    // Last, so that a mode's own settings win.
    args.insert(args.end(), run.mode_args.begin(), run.mode_args.end());
    return args;
}

double process_cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return seconds_of(usage.ru_utime) + seconds_of(usage.ru_stime);
}

double peak_rss_mb() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmHWM:", 0) == 0) return std::strtod(line.c_str() + 6, nullptr) / 1024.0;  // in kB
    }
    return 0;
}

ThreadCpu thread_cpu() {
    ThreadCpu cpu;
    const std::string task_dir = "/proc/self/task/";
    const std::string main_tid = std::to_string(getpid());
    const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    for (const auto& entry : std::filesystem::directory_iterator(task_dir)) {
        std::ifstream stat(entry.path() / "stat");
        std::string line;
        if (!std::getline(stat, line)) continue;  // the thread ended meanwhile
        // Fields after the parenthesised name: state is the 3rd field, utime and stime the 14th and 15th.
        const size_t open = line.find('('), close = line.rfind(')');
        if (open == std::string::npos || close == std::string::npos) continue;
        const std::string name = line.substr(open + 1, close - open - 1);
        std::istringstream fields(line.substr(close + 2));
        std::string field;
        unsigned long long utime = 0, stime = 0;
        for (int i = 3; i <= 15 && fields >> field; ++i) {
            if (i == 14) utime = std::strtoull(field.c_str(), nullptr, 10);
            if (i == 15) stime = std::strtoull(field.c_str(), nullptr, 10);
        }
        const double seconds = static_cast<double>(utime + stime) / ticks;
        // The worker's threads: the main one, and the other members' (`run --threads`).
        if (entry.path().filename() == main_tid || name.rfind("member-", 0) == 0) cpu.main += seconds;
        else if (name.rfind("rdk:", 0) == 0) cpu.librdkafka += seconds;
        else cpu.other += seconds;
    }
    return cpu;
}

int64_t steady_now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

double seconds_since(int64_t steady_ns) { return static_cast<double>(steady_now_ns() - steady_ns) * 1e-9; }

void ProgressLog::update(uint64_t consumed, uint64_t acknowledged) {
    if (interval_ns_ <= 0) return;
    const int64_t now = steady_now_ns();
    if (now < next_ns_) return;
    next_ns_ = now + interval_ns_;
    std::fprintf(stderr, "%s t=%.2f consumed=%llu acknowledged=%llu cpu=%.2f\n", mode_.c_str(),
                 static_cast<double>(now - start_ns_) * 1e-9, static_cast<unsigned long long>(consumed),
                 static_cast<unsigned long long>(acknowledged), process_cpu_seconds());
}

void print_figures(const Figures& figures) {
    std::printf("%s", result_tag);
    for (const auto& [name, value] : figures) std::printf(" %s=%.9g", name.c_str(), value);
    std::printf("\n");
    std::fflush(stdout);
}

Figures run_child(const std::vector<std::string>& args) {
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe: " + std::string(std::strerror(errno)));
    // The resolved path rather than /proc/self/exe itself, which under valgrind names the tool.
    const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    std::fflush(stdout);
    std::fflush(stderr);
    const double machine_start = machine_busy_seconds();
    const double parent_start = process_cpu_seconds();
    const pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("fork: " + std::string(std::strerror(errno)));
    if (pid == 0) {
        // Only async-signal-safe calls here: the parent has the mock cluster's threads.
        dup2(pipe_fds[1], STDOUT_FILENO);
        execv(self.c_str(), argv.data());
        _exit(127);
    }
    close(pipe_fds[1]);
    std::string output;
    char buf[4096];
    for (ssize_t n = 0; (n = read(pipe_fds[0], buf, sizeof buf)) != 0;) {
        if (n < 0) {
            if (errno == EINTR) continue;
            break;
        }
        output.append(buf, static_cast<size_t>(n));
    }
    close(pipe_fds[0]);
    int status = 0;
    rusage child_usage{};
    while (wait4(pid, &status, 0, &child_usage) < 0 && errno == EINTR) {
    }
    const double parent_cpu = process_cpu_seconds() - parent_start;
    const double child_cpu = seconds_of(child_usage.ru_utime) + seconds_of(child_usage.ru_stime);
    const double machine_busy = machine_busy_seconds() - machine_start;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        throw std::runtime_error("the " + args[2] + " run failed (exit status " + std::to_string(WEXITSTATUS(status)) +
                                 ")");
    }

    Figures figures;
    std::istringstream lines(output);
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind(result_tag, 0) != 0) continue;
        std::istringstream fields(line.substr(std::strlen(result_tag)));
        for (std::string field; fields >> field;) {
            const size_t eq = field.find('=');
            if (eq != std::string::npos) figures[field.substr(0, eq)] = std::strtod(field.c_str() + eq + 1, nullptr);
        }
    }
    if (figures.empty()) throw std::runtime_error("the " + args[2] + " run printed no figures");
    // Over the child's whole life (group join and shutdown included): the mock broker lives in
    // this process, and anything else busy on the machine skews every figure.
    figures["broker_cpu_seconds"] = parent_cpu;
    figures["other_cpu_seconds"] = std::max(0.0, machine_busy - parent_cpu - child_cpu);
    return figures;
}

}  // namespace kafka_bench
