#include "quota_args.hpp"

#include "option_checks.hpp"
#include "secret_file.hpp"
#include "stop_signals.hpp"

#include <warden/log.hpp>

namespace warden::cli {

CLI::Option* add_quota_file_option(CLI::App& command, std::string& file) {
    return command
        .add_option("--quota-file", file,
                    "JSON file of quota limits, {\"events\": {MEMBER: UNTIL}, \"exceptions\": {...}} (MEMBER a "
                    "team's token or id, UNTIL a Unix second): events of a team over its quota are dropped")
        ->envname("WARDEN_QUOTA_FILE")
        ->check(not_empty("a file"));
}

void add_quota_options(CLI::App& command, QuotaArgs& args) {
    CLI::Option* file = add_quota_file_option(command, args.file);
    CLI::Option* redis =
        command
            .add_option("--quota-redis", args.redis,
                        "Redis holding the quota limits in PostHog's layout, redis://HOST[:PORT][/DB] (no credentials "
                        "in the URL: see --quota-redis-password-file)")
            ->envname("WARDEN_QUOTA_REDIS")
            ->check(not_empty("a redis:// URL"));
    file->excludes(redis);
    command
        .add_option("--quota-redis-password-file", args.redis_password_file,
                    "File holding the Redis password: its first line exactly")
        ->envname("WARDEN_QUOTA_REDIS_PASSWORD_FILE");
    command.add_option("--quota-redis-user", args.redis_user, "Redis ACL user (default: the default user)")
        ->envname("WARDEN_QUOTA_REDIS_USER");
    command.add_option("--quota-key-prefix", args.key_prefix, "Prefix of the sorted sets; the resource follows it")
        ->envname("WARDEN_QUOTA_KEY_PREFIX")
        ->capture_default_str();
    command.add_option("--quota-refresh-ms", args.refresh_ms, "How often the whole set is read again")
        ->envname("WARDEN_QUOTA_REFRESH_MS")
        ->capture_default_str()
        ->check(whole_number<int64_t>(100));
    command
        .add_option("--quota-max-members", args.max_members,
                    "Most limits in force per resource; a larger set is refused whole and the last one kept")
        ->envname("WARDEN_QUOTA_MAX_MEMBERS")
        ->capture_default_str()
        ->check(whole_number<int64_t>(1));
    command
        .add_option("--quota-max-staleness-ms", args.max_staleness_ms,
                    "Quota limits last read longer ago make /readyz fail with the refresh error (they still apply)")
        ->envname("WARDEN_QUOTA_MAX_STALENESS_MS")
        ->capture_default_str()
        ->check(whole_number<int64_t>(1));
    command
        .add_option("--quota-startup", args.startup,
                    "With Redis unreachable at start: wait for the first set (nothing is consumed meanwhile), or "
                    "open (consume at once, nobody limited until the first set arrives)")
        ->envname("WARDEN_QUOTA_STARTUP")
        ->capture_default_str()
        ->check(one_of({"wait", "open"}));
}

OpenedQuota open_quota_source(const QuotaArgs& args) {
    OpenedQuota opened;
    if (!args.file.empty()) {
        opened.source = std::make_unique<FixedQuotaSource>(QuotaLimits::read_file(args.file));
        return opened;
    }
    if (args.redis.empty()) return opened;
    RedisQuotaOptions options;
    try {
        options = RedisQuotaOptions::from_url(args.redis);
    } catch (const std::invalid_argument& e) {
        throw std::runtime_error(e.what());
    }
    if (!args.redis_password_file.empty()) {
        options.password = read_secret_file("--quota-redis-password-file", args.redis_password_file,
                                            "--quota-redis-password-file takes the name of a file holding the password",
                                            SecretFilePart::first_line);
    }
    options.username = args.redis_user;
    options.key_prefix = args.key_prefix;
    options.refresh_interval = std::chrono::milliseconds(args.refresh_ms);
    options.max_members = static_cast<size_t>(args.max_members);
    auto redis = std::make_unique<RedisQuotaSource>(std::move(options));
    opened.redis = redis.get();
    redis->start();
    opened.source = std::move(redis);
    return opened;
}

QuotaStats quota_stats(const RedisQuotaSource& source, const QuotaArgs& args) {
    const RedisQuotaSource::Status status = source.status();
    QuotaStats q;
    q.refreshed = true;
    q.loaded = status.loaded;
    q.wait_for_first = args.startup == "wait";
    q.loaded_at = status.loaded_at;
    q.failures = status.failures;
    for (size_t r = 0; r < quota_resource_count; ++r) q.limits[r] = status.members[r];
    q.last_error = status.last_error;
    return q;
}

bool wait_for_quota(const QuotaArgs& args, const OpenedQuota& quota) {
    if (!quota.redis || args.startup != "wait") return true;
    using Clock = std::chrono::steady_clock;
    auto report_at = Clock::now() + std::chrono::seconds(2);
    while (!quota.redis->status().loaded) {
        if (!sleep_unless_stopped(std::chrono::milliseconds(100))) return false;
        if (Clock::now() < report_at) continue;
        log::warn("waiting for the quota limits; nothing is consumed until they are read (--quota-startup wait)",
                  {{"error", quota.redis->status().last_error}});
        report_at = Clock::now() + std::chrono::seconds(10);
    }
    return true;
}

}  // namespace warden::cli
