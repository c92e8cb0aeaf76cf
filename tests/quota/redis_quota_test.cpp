// The Redis quota source against a real redis-server (Debian's, started here on loopback): the
// bypass by secret or backup token closed, limits expiring, an outage that neither drops events
// nor flips limits, start-up without Redis, a hostile set, credentials kept out of messages.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <warden/pipeline.hpp>
#include <warden/redis_quota.hpp>
#include <warden/teams.hpp>

#include "../unit/support.hpp"

#include <hiredis/hiredis.h>

#include <csignal>
#include <filesystem>
#include <random>
#include <thread>

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace warden;
using namespace std::chrono_literals;

namespace {

// A free loopback port below the kernel's ephemeral range (32768 and up), as
// tests/support/free_port.sh picks them: no client connection can hold it before the server binds.
int free_port() {
    std::random_device seed;
    std::mt19937 rng(seed());
    std::uniform_int_distribution<int> ports(20000, 32000);
    for (int attempt = 0; attempt < 50; ++attempt) {
        const int port = ports(rng);
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = htons(static_cast<uint16_t>(port));
        const bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
        ::close(fd);
        if (free) return port;
    }
    FAIL("no free loopback port in 20000-32000");
    return 0;
}

// A throwaway redis-server on loopback, without persistence: a restart starts empty.
class RedisServer {
public:
    explicit RedisServer(std::string password = {}) : port_(free_port()), password_(std::move(password)) { start(); }
    ~RedisServer() { stop(); }
    RedisServer(const RedisServer&) = delete;
    RedisServer& operator=(const RedisServer&) = delete;

    void start() {
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            const std::string port = std::to_string(port_);
            std::vector<const char*> argv = {"redis-server", "--port",     port.c_str(),   "--bind", "127.0.0.1",
                                             "--save",       "",           "--appendonly", "no",     "--dir",
                                             "/tmp",         "--loglevel", "warning"};
            if (!password_.empty()) {
                argv.push_back("--requirepass");
                argv.push_back(password_.c_str());
            }
            argv.push_back(nullptr);
            // Its start-up banner and warnings go nowhere; a failure to start shows as no answer.
            const int null = ::open("/dev/null", O_WRONLY);
            ::dup2(null, STDOUT_FILENO);
            ::execvp("redis-server", const_cast<char* const*>(argv.data()));
            ::_exit(127);
        }
        for (int i = 0; i < 200; ++i) {
            if (ping()) return;
            std::this_thread::sleep_for(50ms);
        }
        FAIL("redis-server did not answer on port " << port_);
    }

    void stop() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }

    // Runs one command; its reply as text (integer, status or error), for checks.
    std::string command(const std::vector<std::string>& args) const {
        redisContext* c = redisConnect("127.0.0.1", port_);
        REQUIRE(c);
        REQUIRE(c->err == 0);
        if (!password_.empty()) freeReplyObject(redisCommand(c, "AUTH %s", password_.c_str()));
        std::vector<const char*> argv;
        std::vector<size_t> lengths;
        for (const std::string& a : args) {
            argv.push_back(a.data());
            lengths.push_back(a.size());
        }
        auto* reply =
            static_cast<redisReply*>(redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lengths.data()));
        REQUIRE(reply);
        std::string text = reply->type == REDIS_REPLY_INTEGER ? std::to_string(reply->integer)
                                                              : std::string(reply->str ? reply->str : "", reply->len);
        freeReplyObject(reply);
        redisFree(c);
        return text;
    }

    RedisQuotaOptions options() const {
        RedisQuotaOptions o;
        o.port = port_;
        o.password = password_;
        o.refresh_interval = 100ms;
        o.timeout = 5s;  // generous: the machine may be busy with other suites
        return o;
    }

private:
    bool ping() const {
        redisContext* c = redisConnect("127.0.0.1", port_);
        const bool up = c && c->err == 0;
        redisFree(c);
        return up;
    }

    int port_;
    std::string password_;
    pid_t pid_ = -1;
};

constexpr int64_t now_s = 1'700'000'000;  // test::Harness's wall clock
const std::string events_key = "@posthog/quota-limits/events";
const std::string pageview = R"({"event":"$pageview","distinct_id":"u","properties":{}})";

// Whether an event of Acme (test_teams.hpp) sent with `token` is dropped as over quota.
bool dropped(const QuotaSource& quota, const std::string& token) {
    test::Harness h;
    h.processor.set_quota(&quota);
    return h.run_one(test::event_with(token, pageview)).outcomes.at(0).drop == DropCause::quota_limited;
}

}  // namespace

TEST_CASE("redis quota: a limit on the public, the secret or the backup token alone, or the id, limits every token") {
    RedisServer redis;
    for (const std::string member : {"phc_public_acme", "phs_secret_acme", "phs_backup_acme", "2"}) {
        INFO("limit on " << member.substr(0, 4));
        redis.command({"DEL", events_key});
        CHECK(redis.command({"ZADD", events_key, std::to_string(now_s + 3600), member}) == "1");
        RedisQuotaSource source(redis.options(), [] { return now_s; });
        REQUIRE(source.refresh());
        for (const char* token : {"phc_public_acme", "phs_secret_acme", "phs_backup_acme"}) {
            INFO("sent with " << std::string(token).substr(0, 4));
            CHECK(dropped(source, token));
        }
        CHECK_FALSE(dropped(source, "phc_public_beta"));
        CHECK(source.status().members[0] == 1);
    }
}

TEST_CASE("redis quota: only limits in force are read, and a limit ends at its second") {
    RedisServer redis;
    redis.command({"ZADD", events_key, std::to_string(now_s - 10), "phc_public_beta"});  // over
    redis.command({"ZADD", events_key, std::to_string(now_s + 5), "phs_secret_acme"});
    redis.command({"ZADD", "@posthog/quota-limits/recordings", std::to_string(now_s + 5), "phc_public_beta"});
    int64_t clock = now_s;
    RedisQuotaSource source(redis.options(), [&] { return clock; });
    REQUIRE(source.refresh());
    CHECK(source.status().members[0] == 1);  // the ended one is not read
    CHECK(dropped(source, "phc_public_acme"));
    CHECK_FALSE(dropped(source, "phc_public_beta"));
    // Between refreshes the score still decides: the batch's clock passes it.
    const QuotaLimits& limits = *source.current();
    Team acme;
    acme.id = 2;
    acme.api_token = "phc_public_acme";
    acme.secret_api_token = "phs_secret_acme";
    CHECK(limits.limited(acme, now_s + 4) != 0);
    CHECK(limits.limited(acme, now_s + 5) == 0);
    clock = now_s + 5;
    REQUIRE(source.refresh());
    CHECK(source.status().members[0] == 0);
    // Scores as Redis may hold them: fractions round up, +inf never ends.
    redis.command({"ZADD", events_key, "+inf", "2"});
    redis.command({"ZADD", "@posthog/quota-limits/exceptions", std::to_string(now_s + 5) + ".25", "phc_public_beta"});
    REQUIRE(source.refresh());
    CHECK(source.current()->score(QuotaResource::events, "2") == INT64_MAX);
    CHECK(source.current()->score(QuotaResource::exceptions, "phc_public_beta") == now_s + 6);
}

TEST_CASE("redis quota: an outage keeps the last set (no drop, no flip) and a restart is picked up") {
    auto redis = std::make_unique<RedisServer>();
    redis->command({"ZADD", events_key, std::to_string(now_s + 3600), "phs_backup_acme"});
    RedisQuotaSource source(redis->options(), [] { return now_s; });
    source.start();
    const std::atomic<bool> never{false};
    REQUIRE(source.wait_until_loaded(5s, never));
    const RedisQuotaOptions options = redis->options();
    redis->stop();
    CHECK_FALSE(source.refresh());
    const RedisQuotaSource::Status down = source.status();
    CHECK(down.loaded);
    CHECK(down.failures >= 1);
    CHECK(down.last_error.find("Redis at 127.0.0.1:" + std::to_string(options.port)) == 0);
    // The limited team stays limited, the others stay free.
    CHECK(dropped(source, "phc_public_acme"));
    CHECK_FALSE(dropped(source, "phc_public_beta"));
    // Background refreshes fail meanwhile, and change nothing.
    for (int i = 0; i < 100 && source.status().failures <= down.failures; ++i) std::this_thread::sleep_for(50ms);
    CHECK(source.status().failures > down.failures);
    CHECK(dropped(source, "phs_secret_acme"));

    redis->start();  // back, without persistence: the billing job writes the set again
    redis->command({"ZADD", events_key, std::to_string(now_s + 3600), "phc_public_beta"});
    REQUIRE(source.refresh());
    CHECK(source.status().last_error.empty());
    CHECK_FALSE(dropped(source, "phc_public_acme"));
    CHECK(dropped(source, "phc_public_beta"));
}

TEST_CASE("redis quota: at start-up without Redis nothing is limited until the first set arrives") {
    RedisServer redis;
    RedisQuotaOptions options = redis.options();
    redis.stop();
    RedisQuotaSource source(options, [] { return now_s; });
    source.start();
    const std::atomic<bool> never{false};
    CHECK_FALSE(source.wait_until_loaded(300ms, never));
    CHECK(source.current()->empty());
    redis.start();
    redis.command({"ZADD", events_key, std::to_string(now_s + 3600), "2"});
    CHECK(source.wait_until_loaded(5s, never));
    // A background refresh may have read the empty set between start and ZADD: read it again.
    REQUIRE(source.refresh());
    CHECK(dropped(source, "phs_secret_acme"));
    // A stop request ends the wait at once.
    RedisQuotaSource idle(options, [] { return now_s; });
    const std::atomic<bool> stop{true};
    const auto started = std::chrono::steady_clock::now();
    CHECK_FALSE(idle.wait_until_loaded(10s, stop));
    CHECK(std::chrono::steady_clock::now() - started < 1s);
}

TEST_CASE("redis quota: a hostile set (binary members, more than allowed) is refused whole, never cut") {
    RedisServer redis;
    redis.command({"ZADD", events_key, std::to_string(now_s + 3600), "2"});
    constexpr size_t junk = 20'000;
    for (size_t first = 0; first < junk; first += 1000) {
        std::vector<std::string> zadd = {"ZADD", events_key};
        for (size_t i = first; i < first + 1000; ++i) {
            zadd.push_back(std::to_string(now_s + 3600));
            // NULs, CR LF, invalid UTF-8, and a token with a byte more.
            zadd.push_back(std::string("\0\r\n\xff", 4) + std::to_string(i) + std::string("phc_public_beta\0", 16));
        }
        redis.command(zadd);
    }
    RedisQuotaOptions options = redis.options();
    options.max_members = junk;  // one fewer than the set holds
    RedisQuotaSource source(options, [] { return now_s; });
    CHECK_FALSE(source.refresh());
    CHECK(source.status().last_error ==
          events_key +
              " holds 20001 limits in force, more than the 20000 allowed (--quota-max-members); the last "
              "set is kept");
    CHECK(source.current()->empty());
    options.max_members = junk + 1;
    RedisQuotaSource roomy(options, [] { return now_s; });
    REQUIRE(roomy.refresh());
    CHECK(roomy.status().members[0] == junk + 1);
    CHECK(dropped(roomy, "phc_public_acme"));
    CHECK_FALSE(dropped(roomy, "phc_public_beta"));  // binary near-misses match nothing
}

TEST_CASE("redis quota: credentials are sent, never shown; the URL refuses them") {
    RedisServer redis("s3cret-quota-pass");
    redis.command({"ZADD", events_key, std::to_string(now_s + 3600), "2"});
    RedisQuotaOptions wrong = redis.options();
    wrong.password = "wrong-pass-value";
    RedisQuotaSource refused(wrong, [] { return now_s; });
    CHECK_FALSE(refused.refresh());
    const std::string error = refused.status().last_error;
    CHECK(error.find("WRONGPASS") != std::string::npos);
    CHECK(error.find("wrong-pass-value") == std::string::npos);
    CHECK(error.find("s3cret") == std::string::npos);
    RedisQuotaSource right(redis.options(), [] { return now_s; });
    CHECK(right.refresh());

    const auto url_error = [](const std::string& url) {
        try {
            RedisQuotaOptions::from_url(url);
        } catch (const std::invalid_argument& e) {
            return std::string(e.what());
        }
        return std::string("accepted");
    };
    const RedisQuotaOptions parsed = RedisQuotaOptions::from_url("redis://cache.internal:6380/3");
    CHECK(parsed.host == "cache.internal");
    CHECK(parsed.port == 6380);
    CHECK(parsed.database == 3);
    CHECK(RedisQuotaOptions::from_url("redis://cache").port == 6379);
    const std::string with_password = url_error("redis://user:hunter2@cache:6379");
    CHECK(with_password.find("credentials in the URL are refused") != std::string::npos);
    CHECK(with_password.find("hunter2") == std::string::npos);
    CHECK(url_error("rediss://cache:6379").find("TLS") != std::string::npos);
    // The URL's parts are not echoed: a mistyped one may hold a credential.
    CHECK(url_error("redis://cache:0") == "--quota-redis: the port must be 1-65535");
    CHECK(url_error("redis://cache/x") == "--quota-redis: the database after '/' must be a number");
    CHECK(url_error("redis://:6379") == "--quota-redis: no host");
    CHECK(url_error("http://cache") == "--quota-redis: expected redis://HOST[:PORT][/DB]");
}
