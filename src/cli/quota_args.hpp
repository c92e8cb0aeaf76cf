// The quota stage's settings, shared by `run` (Redis or a file) and `check`.
#pragma once

#include <warden/quota.hpp>
#include <warden/redis_quota.hpp>
#include <warden/worker_stats.hpp>

#include <CLI/CLI.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace warden::cli {

struct QuotaArgs {
    std::string file;                 // a JSON file of limits (warden/quota.hpp)
    std::string redis;                // redis://HOST[:PORT][/DB]
    std::string redis_password_file;  // the password; the user is --quota-redis-user
    std::string redis_user;
    std::string key_prefix = "@posthog/quota-limits/";
    int64_t refresh_ms = 5000;
    int64_t max_members = 1'000'000;
    std::string startup = "wait";        // with Redis: wait for the first set, or start with none ("open")
    int64_t max_staleness_ms = 300'000;  // older limits make the worker not ready (still applied)
};

void add_quota_options(CLI::App& command, QuotaArgs& args);
// --quota-file alone (`process`, whose limits come from a file only).
CLI::Option* add_quota_file_option(CLI::App& command, std::string& file);

// The source the flags name, started when it refreshes; null without quota flags.
struct OpenedQuota {
    std::unique_ptr<QuotaSource> source;
    RedisQuotaSource* redis = nullptr;  // the source, when it is Redis
};
OpenedQuota open_quota_source(const QuotaArgs& args);

// What readiness and the metrics read of a Redis source.
QuotaStats quota_stats(const RedisQuotaSource& source, const QuotaArgs& args);

// With Redis and --quota-startup wait: waits for the first set, logging why not every 10 s;
// false when a stop signal came first.
bool wait_for_quota(const QuotaArgs& args, const OpenedQuota& quota);

}  // namespace warden::cli
