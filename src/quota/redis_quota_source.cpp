// RedisQuotaSource: PostHog's quota sorted sets, read whole every refresh (see redis_quota.hpp).
#include <warden/redis_quota.hpp>

#include <hiredis/hiredis.h>

#include <charconv>
#include <cmath>
#include <stdexcept>

namespace warden {
namespace {

struct ReplyDeleter {
    void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

timeval timeval_of(std::chrono::milliseconds ms) {
    return {static_cast<time_t>(ms.count() / 1000), static_cast<suseconds_t>(ms.count() % 1000 * 1000)};
}

std::string resource_key(const RedisQuotaOptions& options, QuotaResource resource) {
    return options.key_prefix + std::string(to_string(resource));
}

}  // namespace

RedisQuotaOptions RedisQuotaOptions::from_url(const std::string& url) {
    RedisQuotaOptions options;
    const std::string_view scheme = "redis://";
    if (url.starts_with("rediss://")) {
        throw std::invalid_argument(
            "--quota-redis: TLS (rediss://) is not available in this build (hiredis 0.14); "
            "reach Redis over a TLS tunnel or a private network");
    }
    if (!url.starts_with(scheme)) throw std::invalid_argument("--quota-redis: expected redis://HOST[:PORT][/DB]");
    std::string_view rest = std::string_view(url).substr(scheme.size());
    if (rest.find('@') != std::string_view::npos) {
        // Not shown: the part before '@' holds the credentials.
        throw std::invalid_argument(
            "--quota-redis: credentials in the URL are refused; give the password with "
            "--quota-redis-password-file or WARDEN_QUOTA_REDIS_PASSWORD");
    }
    if (const size_t slash = rest.find('/'); slash != std::string_view::npos) {
        const std::string_view db = rest.substr(slash + 1);
        if (!db.empty()) {
            const auto [end, ec] = std::from_chars(db.data(), db.data() + db.size(), options.database);
            if (ec != std::errc() || end != db.data() + db.size() || options.database < 0) {
                throw std::invalid_argument("--quota-redis: the database after '/' must be a number");
            }
        }
        rest = rest.substr(0, slash);
    }
    if (const size_t colon = rest.rfind(':'); colon != std::string_view::npos) {
        const std::string_view port = rest.substr(colon + 1);
        const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), options.port);
        if (ec != std::errc() || end != port.data() + port.size() || options.port < 1 || options.port > 65535) {
            throw std::invalid_argument("--quota-redis: the port must be 1-65535");
        }
        rest = rest.substr(0, colon);
    }
    if (rest.empty()) throw std::invalid_argument("--quota-redis: no host");
    options.host = std::string(rest);
    return options;
}

// One connection, opened on demand and dropped after any error (the next refresh reconnects).
struct RedisQuotaSource::Connection {
    struct ContextDeleter {
        void operator()(redisContext* c) const { redisFree(c); }
    };
    std::unique_ptr<redisContext, ContextDeleter> context;

    // Runs the commands in one round trip; the replies in order, or an error text.
    std::optional<std::string> pipeline(const RedisQuotaOptions& options,
                                        const std::vector<std::vector<std::string>>& commands,
                                        std::vector<ReplyPtr>& replies) {
        if (!context) {
            if (std::optional<std::string> error = connect(options)) return error;
        }
        for (const std::vector<std::string>& command : commands) {
            std::vector<const char*> argv;
            std::vector<size_t> lengths;
            for (const std::string& arg : command) {
                argv.push_back(arg.data());
                lengths.push_back(arg.size());
            }
            redisAppendCommandArgv(context.get(), static_cast<int>(argv.size()), argv.data(), lengths.data());
        }
        replies.clear();
        for (size_t i = 0; i < commands.size(); ++i) {
            void* reply = nullptr;
            if (redisGetReply(context.get(), &reply) != REDIS_OK || !reply) {
                std::string error = std::string("Redis at ") + options.host + ":" + std::to_string(options.port) +
                                    ": " + (context->errstr[0] ? context->errstr : "no reply");
                context.reset();
                return error;
            }
            replies.emplace_back(static_cast<redisReply*>(reply));
        }
        return std::nullopt;
    }

    std::optional<std::string> connect(const RedisQuotaOptions& options) {
        redisContext* c = redisConnectWithTimeout(options.host.c_str(), options.port, timeval_of(options.timeout));
        const std::string where = "Redis at " + options.host + ":" + std::to_string(options.port);
        if (!c) return where + ": cannot allocate a connection";
        context.reset(c);
        if (c->err) {
            std::string error = where + ": " + c->errstr;
            context.reset();
            return error;
        }
        redisSetTimeout(c, timeval_of(options.timeout));
        std::vector<std::vector<std::string>> setup;
        if (!options.password.empty()) {
            setup.push_back(options.username.empty()
                                ? std::vector<std::string>{"AUTH", options.password}
                                : std::vector<std::string>{"AUTH", options.username, options.password});
        }
        if (options.database != 0) setup.push_back({"SELECT", std::to_string(options.database)});
        if (setup.empty()) return std::nullopt;
        std::vector<ReplyPtr> replies;
        if (std::optional<std::string> error = pipeline(options, setup, replies)) return error;
        for (const ReplyPtr& reply : replies) {
            if (reply->type == REDIS_REPLY_ERROR) {
                // The server's words (WRONGPASS ..., ERR DB index ...) hold no credential.
                std::string error = where + ": " + std::string(reply->str, reply->len);
                context.reset();
                return error;
            }
        }
        return std::nullopt;
    }
};

RedisQuotaSource::RedisQuotaSource(RedisQuotaOptions options, WallClock wall_clock)
    : options_(std::move(options)),
      wall_clock_(wall_clock ? std::move(wall_clock)
                             : [] {
                                   return std::chrono::duration_cast<std::chrono::seconds>(
                                              std::chrono::system_clock::now().time_since_epoch())
                                       .count();
                               }),
      connection_(std::make_unique<Connection>()),
      limits_(std::make_shared<const QuotaLimits>()) {}

RedisQuotaSource::~RedisQuotaSource() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    changed_.notify_all();
    if (thread_.joinable()) thread_.join();
}

std::shared_ptr<const QuotaLimits> RedisQuotaSource::current() const {
    std::lock_guard lock(mutex_);
    return limits_;
}

RedisQuotaSource::Status RedisQuotaSource::status() const {
    std::lock_guard lock(mutex_);
    return status_;
}

std::optional<std::string> RedisQuotaSource::read_limits(
    std::array<QuotaLimits::HashedMembers, quota_resource_count>& into) {
    // Only limits still in force: the score is the second the limit ends.
    std::string after_now = std::to_string(wall_clock_());
    after_now.insert(after_now.begin(), '(');  // exclusive; not "(" + …: gcc 12 warns of an overlap that cannot be
    std::vector<std::vector<std::string>> commands;
    for (size_t r = 0; r < quota_resource_count; ++r) {
        commands.push_back(
            {"ZRANGEBYSCORE", resource_key(options_, static_cast<QuotaResource>(r)), after_now, "+inf", "WITHSCORES"});
    }
    std::vector<ReplyPtr> replies;
    if (std::optional<std::string> error = connection_->pipeline(options_, commands, replies)) return error;
    for (size_t r = 0; r < quota_resource_count; ++r) {
        const redisReply& reply = *replies[r];
        const std::string key = resource_key(options_, static_cast<QuotaResource>(r));
        if (reply.type == REDIS_REPLY_ERROR)
            return "Redis refused reading " + key + ": " + std::string(reply.str, reply.len);
        if (reply.type != REDIS_REPLY_ARRAY || reply.elements % 2 != 0) return "Redis answered " + key + " with no set";
        if (reply.elements / 2 > options_.max_members) {
            return key + " holds " + std::to_string(reply.elements / 2) + " limits in force, more than the " +
                   std::to_string(options_.max_members) + " allowed (--quota-max-members); the last set is kept";
        }
        QuotaLimits::HashedMembers& members = into[r];
        members.reserve(reply.elements / 2);
        for (size_t i = 0; i < reply.elements; i += 2) {
            const redisReply& member = *reply.element[i];
            const redisReply& score = *reply.element[i + 1];
            if (member.type != REDIS_REPLY_STRING || score.type != REDIS_REPLY_STRING) {
                return "Redis answered " + key + " with a member or score that is not a string";
            }
            // Scores are doubles ("1798761600", "1.7987616e9", "inf"): a limit holds while
            // now < score, so a fractional second rounds up.
            const double until = std::strtod(std::string(score.str, score.len).c_str(), nullptr);
            const int64_t seconds = std::isfinite(until) ? static_cast<int64_t>(std::ceil(until)) : INT64_MAX;
            // Kept by digest, and the reply's copy wiped: a member may be a secret token.
            auto [at, fresh] = members.emplace(TokenDigest::of({member.str, member.len}), seconds);
            wipe(member.str, member.len);
            if (!fresh) at->second = std::max(at->second, seconds);
        }
    }
    return std::nullopt;
}

bool RedisQuotaSource::refresh() {
    std::lock_guard refreshing(refresh_mutex_);
    std::array<QuotaLimits::HashedMembers, quota_resource_count> members;
    const std::optional<std::string> error = read_limits(members);
    std::lock_guard lock(mutex_);
    if (error) {
        ++status_.failures;
        status_.last_error = *error;
        return false;
    }
    for (size_t r = 0; r < quota_resource_count; ++r) status_.members[r] = members[r].size();
    limits_ = std::make_shared<const QuotaLimits>(std::move(members));
    status_.loaded = true;
    status_.loaded_at = std::chrono::steady_clock::now();
    status_.last_error.clear();
    changed_.notify_all();
    return true;
}

void RedisQuotaSource::start() {
    if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
}

void RedisQuotaSource::run() {
    for (;;) {
        refresh();
        std::unique_lock lock(mutex_);
        if (changed_.wait_for(lock, options_.refresh_interval, [this] { return stopping_; })) return;
    }
}

bool RedisQuotaSource::wait_until_loaded(std::chrono::milliseconds timeout, const std::atomic<bool>& stop) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::unique_lock lock(mutex_);
    while (!status_.loaded && !stopping_ && !stop.load()) {
        // Short waits, so that `stop` (set by a signal handler) is seen soon.
        const auto next = std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(100));
        changed_.wait_until(lock, next);
        if (std::chrono::steady_clock::now() >= deadline) break;
    }
    return status_.loaded;
}

}  // namespace warden
