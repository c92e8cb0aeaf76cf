// --threads of `process` and `run`: how many threads 0 (the default) means, and the option itself.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace warden::cli {

inline constexpr unsigned most_threads = 256;

// The CPUs this process may use: its affinity mask, lowered to the CPU quota of its cgroup (a
// container's CPU limit: cgroup v2 cpu.max, or v1 cpu.cfs_quota_us / cpu.cfs_period_us) rounded
// up, from 1 to most_threads. A pod limited to 2 CPUs on a 64-core node gets 2, not 64.
unsigned available_cores();

// The pure parts of available_cores(), for tests.
// `cpus` CPUs within a quota of `quota_cpus` (none: no quota), rounded up, from 1 to most_threads.
unsigned cores_within(unsigned cpus, std::optional<double> quota_cpus);
// The quota a cgroup v2 cpu.max file states ("150000 100000" is 1.5 CPUs; "max 100000" none).
std::optional<double> cpu_max_quota(std::string_view cpu_max);

// --threads into `threads` (0: available_cores()), with its environment variable when given.
CLI::Option* add_threads_option(CLI::App& cmd, unsigned& threads, const std::string& help,
                                const char* envname = nullptr);

// What --threads `threads` means.
inline unsigned thread_count(unsigned threads) { return threads == 0 ? available_cores() : threads; }

}  // namespace warden::cli
