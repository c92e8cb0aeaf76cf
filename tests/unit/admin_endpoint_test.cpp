// The admin endpoints of the ops server over loopback HTTP: absent without a signing secret, every
// refusal with its status and JSON reason, and an accepted invalidation reaching every team cache
// of the process; each request logged (never its signature) and counted.
#include <warden/admin.hpp>
#include <warden/log.hpp>
#include <warden/ops.hpp>
#include <warden/teams.hpp>

#include "../support/http_client.hpp"
#include "test_teams.hpp"

#include <doctest/doctest.h>

#include <mutex>
#include <string>
#include <vector>

using namespace warden;
using namespace testhttp;

namespace {

const std::string secret = "0123456789abcdef0123456789abcdef-current";
const std::string previous = "fedcba9876543210fedcba9876543210-previous";
const std::string flush_body = R"({"action":"flush"})";
const std::string invalidate_body = R"({"action":"invalidate","team_id":2})";

int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

WorkerStats healthy() {
    WorkerStats s;
    s.brokers_reached = true;
    s.group_joined = true;
    s.last_progress = std::chrono::steady_clock::now();
    return s;
}

// The log lines written while it lives (the server logs from its own thread).
struct CapturedLog {
    static std::mutex& mutex() {
        static std::mutex m;
        return m;
    }
    static std::vector<std::string>& lines() {
        static std::vector<std::string> l;
        return l;
    }
    CapturedLog() {
        lines().clear();
        log::set_repeat_interval(std::chrono::milliseconds(0));
        log::set_sink([](const std::string& line) {
            const std::lock_guard lock(mutex());
            lines().push_back(line);
        });
    }
    ~CapturedLog() {
        log::set_sink(nullptr);
        log::set_repeat_interval(std::chrono::milliseconds(1000));
    }
    std::string text() const {
        const std::lock_guard lock(mutex());
        std::string all;
        for (const std::string& line : lines()) all += line + "\n";
        return all;
    }
};

// An ops server over a file store of the test teams, viewed by `views` caches.
struct AdminFixture {
    explicit AdminFixture(size_t views = 3, std::vector<std::string> secrets = {secret})
        : store(FileTeamStore::from_json(test::teams_json, "test teams")), shared(*store, views) {
        OpsAdmin admin;
        admin.auth.secrets = std::move(secrets);
        admin.teams = &shared;
        ops = std::make_unique<OpsServer>("127.0.0.1:0", healthy, MetricsContext{"events_plugin_ingestion", {}, {}},
                                          admin);
    }
    std::string address() const { return "127.0.0.1:" + std::to_string(ops->port()); }

    std::unique_ptr<FileTeamStore> store;
    SharedTeamStore shared;
    std::unique_ptr<OpsServer> ops;
};

std::string post(const std::string& path, const std::string& body, const std::optional<std::string>& signature) {
    std::string request = "POST " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" +
                          "Content-Length: " + std::to_string(body.size()) + "\r\n";
    if (signature) request += "X-Warden-Signature: " + *signature + "\r\n";
    return request + "\r\n" + body;
}

HttpAnswer answer(int port, const std::string& request) {
    const std::optional<std::string> raw = exchange(port, request, 2s);
    REQUIRE(raw);
    const std::optional<HttpAnswer> parsed = parse_answer(*raw);
    REQUIRE(parsed);
    return *parsed;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("admin endpoint: without a signing secret the admin paths answer 404, exactly as unknown paths do") {
    auto ops = std::make_unique<OpsServer>("127.0.0.1:0", healthy, MetricsContext{"events_plugin_ingestion", {}, {}});
    const HttpAnswer unknown = answer(ops->port(), post("/nope", flush_body, std::nullopt));
    CHECK(unknown.status == 404);
    const std::string signature = sign_admin_request(secret, unix_now(), flush_body);
    for (const std::string path : {"/admin/cache/flush", "/admin/teams/2/invalidate"}) {
        CAPTURE(path);
        const HttpAnswer flush = answer(ops->port(), post(path, flush_body, signature));
        CHECK(flush.status == 404);
        CHECK(flush.head == unknown.head);
        CHECK(flush.body == unknown.body);
        CHECK(answer(ops->port(), "GET " + path + " HTTP/1.1\r\n\r\n").body == unknown.body);
    }
    // Nor are they counted.
    const std::optional<HttpAnswer> metrics = http_get(ops->port(), "/metrics");
    REQUIRE(metrics);
    CHECK_FALSE(contains(metrics->body, "warden_admin_requests_total"));
}

TEST_CASE("admin endpoint: a signed invalidation reaches every view of the shared store, a flush too") {
    AdminFixture fixture(3);
    const AdminAnswer ok = send_admin_request(fixture.address(), {AdminAction::Kind::invalidate, 2}, secret, 2s);
    CHECK(ok.status == 200);
    CHECK(contains(ok.body, R"("status":"ok")"));
    CHECK(contains(ok.body, R"("team_id":2)"));
    for (size_t i = 0; i < 3; ++i) {
        CAPTURE(i);
        const TeamStore::Invalidations taken = fixture.shared.view(i).poll_invalidations();
        CHECK(taken.team_ids == std::vector<int64_t>{2});
        CHECK_FALSE(taken.everything);
        CHECK(fixture.shared.view(i).poll_invalidations().team_ids.empty());  // taken once
    }
    // The same request again at once (within the second): the client's nonce makes it no replay.
    for (int i = 0; i < 2; ++i) {
        CHECK(send_admin_request(fixture.address(), {AdminAction::Kind::invalidate, 3}, secret, 2s).status == 200);
    }
    CHECK(fixture.shared.view(0).poll_invalidations().team_ids == std::vector<int64_t>{3, 3});
    const AdminAnswer flushed = send_admin_request(fixture.address(), {AdminAction::Kind::flush, 0}, secret, 2s);
    CHECK(flushed.status == 200);
    CHECK(contains(flushed.body, R"("action":"flush")"));
    for (size_t i = 0; i < 3; ++i) CHECK(fixture.shared.view(i).poll_invalidations().everything);
}

TEST_CASE("admin endpoint: every team cache of the process forgets the team at its next batch") {
    AdminFixture fixture(2);
    std::vector<std::unique_ptr<TeamCache>> caches;
    for (size_t i = 0; i < 2; ++i) caches.push_back(std::make_unique<TeamCache>(fixture.shared.view(i)));
    const std::vector<std::string> tokens = {"phc_public_acme"};
    std::vector<std::shared_ptr<const Team>> teams;
    for (auto& cache : caches) {
        cache->apply_store_changes();
        REQUIRE(cache->resolve_batch(tokens, teams));
        REQUIRE(cache->resolve_batch(tokens, teams));  // the second from the cache
    }
    const uint64_t fetches = fixture.store->fetch_count();
    CHECK(fetches == 2);
    REQUIRE(send_admin_request(fixture.address(), {AdminAction::Kind::invalidate, 2}, secret, 2s).status == 200);
    for (auto& cache : caches) {
        cache->apply_store_changes();  // what each batch does first
        CHECK(cache->stats().teams == 0);
        REQUIRE(cache->resolve_batch(tokens, teams));
        REQUIRE(teams.front());
        CHECK(teams.front()->id == 2);
    }
    CHECK(fixture.store->fetch_count() > fetches);
}

TEST_CASE("admin endpoint: 401 with a JSON reason for each failed check, never the signature or the secret") {
    AdminFixture fixture(1, {secret, previous});
    const int port = fixture.ops->port();
    const int64_t now = unix_now();
    const std::string good = sign_admin_request(secret, now, flush_body);
    const std::string v1 = good.substr(good.find("v1=") + 3);
    const auto refused = [&](const std::string& request, int status, const std::string& reason) {
        const HttpAnswer a = answer(port, request);
        CAPTURE(request);
        CHECK(a.status == status);
        CHECK(contains(a.head, "Content-Type: application/json\r\n"));
        CHECK(contains(a.body, reason));
        CHECK_FALSE(contains(a.body, v1));
        CHECK_FALSE(contains(a.body, secret));
        return a;
    };
    refused(post("/admin/cache/flush", flush_body, std::nullopt), 401, R"("reason":"missing header)");
    refused(post("/admin/cache/flush", flush_body, "t=abc,v1=" + v1), 401, R"("reason":"malformed header)");
    refused(post("/admin/cache/flush", flush_body, "t=1,v1=12"), 401, R"("reason":"malformed header)");
    refused(post("/admin/cache/flush", flush_body, sign_admin_request(secret, now - 3600, flush_body)), 401,
            R"("reason":"stale timestamp)");
    refused(post("/admin/cache/flush", flush_body, sign_admin_request(secret, now + 3600, flush_body)), 401,
            R"("reason":"stale timestamp)");
    refused(post("/admin/cache/flush", flush_body, sign_admin_request(std::string(40, 'w'), now, flush_body)), 401,
            R"("reason":"bad signature)");
    refused(post("/admin/cache/flush", R"({"action": "flush"})", good), 401, R"("reason":"bad signature)");
    // The previous secret is good during a rotation; its signature then is used up.
    const std::string by_previous = sign_admin_request(previous, now, flush_body);
    CHECK(answer(port, post("/admin/cache/flush", flush_body, by_previous)).status == 200);
    refused(post("/admin/cache/flush", flush_body, by_previous), 401, R"("reason":"replayed)");
    // A signature is good for the action its body names: not for another path.
    refused(post("/admin/teams/2/invalidate", flush_body, good), 400, "names another action");
    // Sent to the wrong path first, the signature is not used up for its own.
    CHECK(answer(port, post("/admin/cache/flush", flush_body, good)).status == 200);
    refused(post("/admin/teams/3/invalidate", invalidate_body, sign_admin_request(secret, now, invalidate_body)), 400,
            "names another action");
    refused(post("/admin/teams/0/invalidate", invalidate_body, std::nullopt), 400, "positive");
    refused(post("/admin/teams/x2/invalidate", invalidate_body, std::nullopt), 400, "positive");
    CHECK(fixture.shared.view(0).poll_invalidations().everything);  // the accepted flushes
}

TEST_CASE("admin endpoint: another method 405, no length 411, a body past 4 KiB 413; other limits unchanged") {
    AdminFixture fixture(1);
    const int port = fixture.ops->port();
    for (const char* method : {"GET", "HEAD", "PUT", "DELETE"}) {
        CAPTURE(method);
        const HttpAnswer a = answer(port, std::string(method) + " /admin/cache/flush HTTP/1.1\r\n\r\n");
        CHECK(a.status == 405);
        CHECK(contains(a.head, "Allow: POST\r\n"));
    }
    CHECK(answer(port, "POST /admin/cache/flush HTTP/1.1\r\n\r\n").status == 411);
    CHECK(answer(port, "POST /admin/cache/flush HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n").status ==
          411);
    CHECK(answer(port, "POST /admin/cache/flush HTTP/1.1\r\nContent-Length: x\r\n\r\n").status == 400);
    CHECK(answer(port, "POST /admin/cache/flush HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}").status ==
          400);
    // The largest body is read and judged; one byte more is refused before it is read.
    const std::string largest = flush_body + std::string(4096 - flush_body.size(), ' ');
    const HttpAnswer fits = answer(port, post("/admin/cache/flush", largest, std::nullopt));
    CHECK(fits.status == 401);
    const HttpAnswer over = answer(port, post("/admin/cache/flush", largest + " ", std::nullopt));
    CHECK(over.status == 413);
    CHECK(contains(over.body, "4096 bytes"));
    // A body that never comes in full is cut at the request deadline, like a trickled head.
    Connection slow(port);
    CHECK(slow.send("POST /admin/cache/flush HTTP/1.1\r\nContent-Length: 100\r\n\r\n{"));
    const auto start = Clock::now();
    CHECK(slow.read_to_close(4s));
    CHECK(Clock::now() - start < 3s);
    // GET endpoints keep their answers; POST there stays 405 with their own Allow.
    const std::optional<HttpAnswer> health = http_get(port, "/healthz");
    REQUIRE(health);
    CHECK(health->status == 200);
    const HttpAnswer post_metrics = answer(port, post("/metrics", "{}", std::nullopt));
    CHECK(post_metrics.status == 405);
    CHECK(contains(post_metrics.head, "Allow: GET, HEAD\r\n"));
    CHECK(answer(port, post("/admin/other", flush_body, std::nullopt)).status == 404);
}

TEST_CASE("admin endpoint: each request is logged with action, team, result and peer, and counted") {
    CapturedLog log;
    AdminFixture fixture(1);
    const int port = fixture.ops->port();
    const std::string signature = sign_admin_request(secret, unix_now(), invalidate_body);
    CHECK(answer(port, post("/admin/teams/2/invalidate", invalidate_body, signature)).status == 200);
    CHECK(answer(port, post("/admin/teams/2/invalidate", invalidate_body, signature)).status == 401);
    CHECK(answer(port, post("/admin/cache/flush", flush_body, "t=1,v1=00")).status == 401);
    CHECK(answer(port, "GET /admin/cache/flush HTTP/1.1\r\n\r\n").status == 405);

    const std::optional<HttpAnswer> metrics = http_get(port, "/metrics");
    REQUIRE(metrics);
    CHECK(contains(metrics->body, R"(warden_admin_requests_total{action="invalidate",result="ok"} 1)"));
    CHECK(contains(metrics->body, R"(warden_admin_requests_total{action="invalidate",result="replayed"} 1)"));
    CHECK(contains(metrics->body, R"(warden_admin_requests_total{action="flush",result="malformed_header"} 1)"));
    CHECK(contains(metrics->body, R"(warden_admin_requests_total{action="flush",result="method_not_allowed"} 1)"));
    CHECK(contains(metrics->body, R"(warden_admin_requests_total{action="flush",result="ok"} 0)"));

    const std::string lines = log.text();
    INFO(lines);
    CHECK(contains(lines, R"("level":"info")"));
    CHECK(contains(lines, R"("action":"invalidate","team_id":"2","result":"ok","peer":"127.0.0.1")"));
    CHECK(contains(lines, R"("action":"invalidate","team_id":"2","result":"replayed","peer":"127.0.0.1")"));
    CHECK(contains(lines, R"("action":"flush","team_id":"all","result":"malformed_header","peer":"127.0.0.1")"));
    CHECK_FALSE(contains(lines, signature.substr(signature.find("v1=") + 3)));
    CHECK_FALSE(contains(lines, secret));
}

TEST_CASE("admin endpoint: every call goes to the audit inbox first; a call it cannot take is not acted on") {
    auto store = FileTeamStore::from_json(test::teams_json, "test teams");
    SharedTeamStore shared(*store, 1);
    auto inbox = std::make_shared<AdminAuditInbox>();
    OpsAdmin admin;
    admin.auth.secrets = {secret};
    admin.teams = &shared;
    admin.audit = inbox;
    OpsServer ops("127.0.0.1:0", healthy, MetricsContext{"events_plugin_ingestion", {}, {}}, admin);
    const std::string address = "127.0.0.1:" + std::to_string(ops.port());

    // Before the worker takes calls (starting, or stopping): a signed call is answered 503, not acted on.
    const AdminAnswer early = send_admin_request(address, {AdminAction::Kind::invalidate, 2}, secret, 2s);
    CHECK(early.status == 503);
    CHECK(contains(early.body, "audit trail"));
    CHECK(shared.view(0).poll_invalidations().team_ids.empty());
    inbox->take();

    inbox->open();
    REQUIRE(send_admin_request(address, {AdminAction::Kind::invalidate, 2}, secret, 2s).status == 200);
    CHECK(send_admin_request(address, {AdminAction::Kind::flush, 0}, "wrong-secret-0123456789abcdef0123", 2s).status ==
          401);
    const std::vector<AdminAuditEntry> calls = inbox->take();
    REQUIRE(calls.size() == 2);
    CHECK(calls[0].accepted);
    CHECK(calls[0].action == "invalidate");
    CHECK(calls[0].team == 2);
    CHECK(calls[0].result == "ok");
    CHECK(calls[0].peer == "127.0.0.1");
    CHECK(calls[0].first_ms > 1'700'000'000'000);
    CHECK_FALSE(calls[1].accepted);
    CHECK(calls[1].action == "flush");
    CHECK(calls[1].result == "bad_signature");
    CHECK(shared.view(0).poll_invalidations().team_ids == std::vector<int64_t>{2});

    // Full (the worker has not taken the calls): a signed call is answered 503 and not acted on.
    const AdminAuditEntry filler{true, "flush", std::nullopt, "ok", "127.0.0.1", 0, 0, 1};
    for (size_t i = 0; i < AdminAuditInbox::capacity; ++i) REQUIRE(inbox->post_accepted(filler));
    const AdminAnswer busy = send_admin_request(address, {AdminAction::Kind::invalidate, 3}, secret, 2s);
    CHECK(busy.status == 503);
    CHECK(shared.view(0).poll_invalidations().team_ids.empty());
    inbox->take();
    CHECK(send_admin_request(address, {AdminAction::Kind::invalidate, 3}, secret, 2s).status == 200);
    CHECK(shared.view(0).poll_invalidations().team_ids == std::vector<int64_t>{3});
}
