#include "thread_count.hpp"

#include "option_checks.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <sched.h>

namespace warden::cli {
namespace {

std::optional<std::string> read_small_file(const std::filesystem::path& path) {
    std::ifstream in(path);
    if (!in) return std::nullopt;
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::optional<int64_t> whole_number(std::string_view text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
    int64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

std::optional<double> lower(std::optional<double> a, std::optional<double> b) {
    if (!a) return b;
    if (!b) return a;
    return std::min(*a, *b);
}

// The lowest quota on the way from `leaf` up to `root` (a limit on a parent binds its children).
template <typename QuotaOf>
std::optional<double> lowest_quota(const std::filesystem::path& root, const std::string& leaf, QuotaOf quota_of) {
    std::optional<double> lowest = quota_of(root);
    std::filesystem::path dir = root;
    std::istringstream parts(leaf);
    for (std::string part; std::getline(parts, part, '/');) {
        if (part.empty()) continue;
        dir /= part;
        lowest = lower(lowest, quota_of(dir));
    }
    return lowest;
}

std::optional<double> cgroup_v2_quota(const std::string& path) {
    return lowest_quota("/sys/fs/cgroup", path, [](const std::filesystem::path& dir) -> std::optional<double> {
        const std::optional<std::string> text = read_small_file(dir / "cpu.max");
        return text ? cpu_max_quota(*text) : std::nullopt;
    });
}

std::optional<double> cgroup_v1_quota(const std::string& controllers, const std::string& path) {
    const std::filesystem::path mount = std::filesystem::path("/sys/fs/cgroup") / controllers;
    return lowest_quota(mount, path, [](const std::filesystem::path& dir) -> std::optional<double> {
        const std::optional<std::string> quota = read_small_file(dir / "cpu.cfs_quota_us");
        const std::optional<std::string> period = read_small_file(dir / "cpu.cfs_period_us");
        if (!quota || !period) return std::nullopt;
        const std::optional<int64_t> q = whole_number(*quota);
        const std::optional<int64_t> p = whole_number(*period);
        if (!q || !p || *q <= 0 || *p <= 0) return std::nullopt;  // -1: no quota
        return static_cast<double>(*q) / static_cast<double>(*p);
    });
}

// The CPU quota of this process's cgroup, from /proc/self/cgroup ("0::/path" under v2,
// "N:cpu,cpuacct:/path" under v1). None when there is none or it cannot be read.
std::optional<double> cgroup_quota() {
    std::ifstream in("/proc/self/cgroup");
    std::optional<double> quota;
    for (std::string line; std::getline(in, line);) {
        const size_t first = line.find(':');
        const size_t second = first == std::string::npos ? first : line.find(':', first + 1);
        if (second == std::string::npos) continue;
        const std::string controllers = line.substr(first + 1, second - first - 1);
        const std::string path = line.substr(second + 1);
        if (controllers.empty()) {
            quota = lower(quota, cgroup_v2_quota(path));
            continue;
        }
        std::istringstream names(controllers);
        for (std::string name; std::getline(names, name, ',');) {
            if (name == "cpu") quota = lower(quota, cgroup_v1_quota(controllers, path));
        }
    }
    return quota;
}

unsigned affinity_cpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        const int count = CPU_COUNT(&set);
        if (count > 0) return static_cast<unsigned>(count);
    }
    return std::thread::hardware_concurrency();
}

}  // namespace

unsigned cores_within(unsigned cpus, std::optional<double> quota_cpus) {
    unsigned cores = std::max(cpus, 1U);
    if (quota_cpus && *quota_cpus > 0) cores = std::min(cores, static_cast<unsigned>(std::ceil(*quota_cpus)));
    return std::clamp(cores, 1U, most_threads);
}

std::optional<double> cpu_max_quota(std::string_view cpu_max) {
    const size_t space = cpu_max.find(' ');
    if (space == std::string_view::npos) return std::nullopt;
    const std::optional<int64_t> quota = whole_number(cpu_max.substr(0, space));  // "max": none
    const std::optional<int64_t> period = whole_number(cpu_max.substr(space + 1));
    if (!quota || !period || *quota <= 0 || *period <= 0) return std::nullopt;
    return static_cast<double>(*quota) / static_cast<double>(*period);
}

unsigned available_cores() {
    static const unsigned cores = cores_within(affinity_cpus(), cgroup_quota());
    return cores;
}

CLI::Option* add_threads_option(CLI::App& cmd, unsigned& threads, const std::string& help, const char* envname) {
    CLI::Option* option =
        cmd.add_option("--threads", threads,
                       help + " (0: the cores available, " + std::to_string(available_cores()) + " here)")
            ->capture_default_str()
            ->check(whole_number_range(0, most_threads));
    if (envname) option->envname(envname);
    return option;
}

}  // namespace warden::cli
