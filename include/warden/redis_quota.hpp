// RedisQuotaSource: quota limits read from Redis in PostHog's layout (one sorted set per
// resource, `<prefix><resource>`, member a token or team id, score the Unix second the limit
// holds until), refreshed in the background. Every refresh reads all resources in one round trip
// (pipelined `ZRANGEBYSCORE key (now +inf WITHSCORES`). A failed refresh keeps the last set: an
// outage never drops events and never turns limits on or off wholesale.
#pragma once

#include <warden/quota.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace warden {

struct RedisQuotaOptions {
    std::string host = "127.0.0.1";
    int port = 6379;
    int database = 0;
    std::string username;  // Redis 6 ACL user; empty: the default user
    std::string password;  // empty: no AUTH. Never logged or shown.
    std::string key_prefix = "@posthog/quota-limits/";
    std::chrono::milliseconds refresh_interval{5000};
    std::chrono::milliseconds timeout{2000};  // connect, and each round trip
    // A set with more members than this is refused as a whole (the last set is kept): reading it
    // would cost unbounded memory, and cutting it would lift limits at random.
    size_t max_members = 1'000'000;

    // Reads `redis://HOST[:PORT][/DB]`. A password in the URL is refused (it would show in
    // process lists and logs: give it as a file or in the environment); `rediss://` (TLS) is
    // refused, as the hiredis this is built with has none. Throws std::invalid_argument.
    static RedisQuotaOptions from_url(const std::string& url);
};

class RedisQuotaSource final : public QuotaSource {
public:
    using WallClock = std::function<int64_t()>;  // Unix seconds

    explicit RedisQuotaSource(RedisQuotaOptions options, WallClock wall_clock = nullptr);
    ~RedisQuotaSource() override;
    RedisQuotaSource(const RedisQuotaSource&) = delete;
    RedisQuotaSource& operator=(const RedisQuotaSource&) = delete;

    // The last set read; an empty one until the first refresh succeeds.
    std::shared_ptr<const QuotaLimits> current() const override;

    // One refresh now, on the calling thread: true when the set was read and replaced.
    bool refresh();
    // Refreshes every refresh_interval on a thread of its own until destroyed.
    void start();
    // Waits until a refresh has succeeded, the timeout passes or `stop` is set; true when loaded.
    bool wait_until_loaded(std::chrono::milliseconds timeout, const std::atomic<bool>& stop);

    struct Status {
        bool loaded = false;  // a refresh has succeeded since start
        std::chrono::steady_clock::time_point loaded_at;
        uint64_t failures = 0;
        std::string last_error;  // of the last failed refresh, cleared by a success
        std::array<size_t, quota_resource_count> members{};
    };
    Status status() const;

private:
    struct Connection;
    std::optional<std::string> read_limits(std::array<QuotaLimits::HashedMembers, quota_resource_count>& into);
    void run();

    RedisQuotaOptions options_;
    WallClock wall_clock_;
    std::unique_ptr<Connection> connection_;  // used by one thread at a time (refresh_mutex_)
    std::mutex refresh_mutex_;
    mutable std::mutex mutex_;  // guards what follows
    std::condition_variable changed_;
    std::shared_ptr<const QuotaLimits> limits_;
    Status status_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace warden
