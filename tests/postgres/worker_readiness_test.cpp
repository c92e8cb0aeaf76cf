// /readyz follows the PostgreSQL team store: a worker started while the server is down serves its
// endpoints and is not ready until the server answers; a permanent failure after start-up (a
// revoked privilege) keeps it waiting, not ready and dropping nothing, until someone fixes it.
#include <doctest/doctest.h>

#include <warden/mock_cluster.hpp>
#include <warden/ops.hpp>
#include <warden/teams.hpp>
#include <warden/worker.hpp>

#include "worker_test_support.hpp"

#include "../support/http_client.hpp"

#include <libpq-fe.h>
#include <rapidjson/document.h>

#include <chrono>
#include <string>
#include <thread>

using namespace warden;
using namespace std::chrono_literals;

namespace {

using namespace pgtest;  // env, exec_sql, wait_for, produce_events

using testhttp::HttpAnswer;

// GET http://127.0.0.1:<port><path>; status 0 when nothing answered.
HttpAnswer http_get(int port, const std::string& path) { return testhttp::http_get(port, path).value_or(HttpAnswer{}); }

// A worker on a fresh mock cluster with its ops endpoints on a free port.
struct RunningWorker {
    MockCluster cluster;
    std::unique_ptr<Worker> worker;
    std::unique_ptr<OpsServer> ops;
    std::thread runner;

    RunningWorker(TeamCache& cache, const std::string& group) {
        for (const char* topic : {"events_plugin_ingestion", "events_analytics", "events_error_tracking",
                                  "events_heatmaps", "events_dlq", "events_security_audit"}) {
            cluster.create_topic(topic, 2);
        }
        WorkerOptions options;
        options.brokers = cluster.bootstraps();
        options.group = group;
        options.batch_size = 20;
        options.consumer_properties = {{"fetch.wait.max.ms", "10"}, {"session.timeout.ms", "6000"}};
        worker = std::make_unique<Worker>(options, cache);
        ops = std::make_unique<OpsServer>(
            "127.0.0.1:0", [this] { return worker->stats(); }, MetricsContext{options.input_topic, options.topics, {}});
        runner = std::thread([this] { worker->run(); });
    }
    ~RunningWorker() {
        worker->request_stop();
        runner.join();
    }
    HttpAnswer readyz() const { return http_get(ops->port(), "/readyz"); }

    // The first 503 whose reason (a JSON string, quotes in it escaped) mentions `cause`, within
    // 15 s; status 0 when none came.
    HttpAnswer not_ready_because(const std::string& cause) const {
        HttpAnswer answer;
        const bool seen = wait_for(
            [&] {
                answer = readyz();
                rapidjson::Document body;
                body.Parse(answer.body.c_str());
                return answer.status == 503 && !body.HasParseError() && body.IsObject() && body.HasMember("reason") &&
                       body["reason"].IsString() &&
                       std::string(body["reason"].GetString()).find(cause) != std::string::npos;
            },
            15s);
        MESSAGE("/readyz: " << answer.status << " " << answer.body);
        return seen ? answer : HttpAnswer{};
    }
    void produce(const std::string& token, int first, int count) {
        produce_events(cluster.bootstraps(), first, count, [&](int) { return token; });
    }
};

PostgresStoreOptions reader_store() {
    exec_sql("ALTER ROLE warden_reader PASSWORD 'ready-pass-42'");
    PostgresStoreOptions o;
    o.conninfo = env("WARDEN_TEST_PG") + " user=warden_reader";
    o.password = "ready-pass-42";
    o.min_backoff = 50ms;
    o.max_backoff = 200ms;
    return o;
}

}  // namespace

TEST_CASE("worker: started while PostgreSQL is down, it serves /readyz 503 naming the team store, then 200") {
    exec_sql("DELETE FROM posthog_team WHERE id = 300");
    exec_sql(
        "INSERT INTO posthog_team (id, project_id, api_token, secret_api_token) VALUES (300, 1, 'phc_ReadyTeam300', "
        "'phs_ReadyTeam300')");
    PostgresStoreOptions options = reader_store();
    REQUIRE(std::system(env("WARDEN_TEST_PG_STOP").c_str()) == 0);
    PostgresTeamStore store(options);
    TeamCache cache(store);
    RunningWorker running(cache, "readiness-down-at-start");

    const HttpAnswer ready = running.not_ready_because("team store");
    CHECK(ready.status == 503);
    CHECK(ready.body.find("unreachable") != std::string::npos);
    CHECK(ready.body.find("ready-pass-42") == std::string::npos);
    CHECK(http_get(running.ops->port(), "/healthz").status == 200);  // alive, only not ready
    CHECK_FALSE(running.worker->stats().store_available);

    running.produce("phs_ReadyTeam300", 0, 40);
    std::this_thread::sleep_for(1s);
    CHECK(running.worker->stats().outcomes.consumed == 0);  // waits rather than deciding without the store

    REQUIRE(std::system(env("WARDEN_TEST_PG_START").c_str()) == 0);
    CHECK(wait_for([&] { return running.readyz().status == 200; }, 30s));
    CHECK(wait_for([&] { return running.worker->stats().outcomes.verified == 40; }, 30s));
    CHECK(running.worker->stats().outcomes.dropped[static_cast<size_t>(DropCause::invalid_token)] == 0);
}

TEST_CASE("worker: a permanent store failure after start-up keeps it waiting and not ready until fixed") {
    exec_sql("DELETE FROM posthog_team WHERE id IN (301, 302)");
    for (int id : {301, 302}) {
        exec_sql("INSERT INTO posthog_team (id, project_id, api_token, secret_api_token) VALUES (" +
                 std::to_string(id) + ", 1, 'phc_ReadyTeam" + std::to_string(id) + "', 'phs_ReadyTeam" +
                 std::to_string(id) + "')");
    }
    PostgresTeamStore store(reader_store());
    TeamCache cache(store);
    RunningWorker running(cache, "readiness-permanent");
    running.produce("phs_ReadyTeam301", 0, 20);
    REQUIRE(wait_for([&] { return running.worker->stats().outcomes.verified == 20; }, 30s));
    CHECK(wait_for([&] { return running.readyz().status == 200; }, 10s));

    exec_sql("REVOKE SELECT ON posthog_team FROM warden_reader");
    running.produce("phs_ReadyTeam302", 100, 20);  // a team not cached yet
    CHECK(running.not_ready_because("SELECT").status == 503);
    std::this_thread::sleep_for(1s);
    const WorkerStats during = running.worker->stats();
    CHECK(during.outcomes.consumed == 20);  // the new batch waits: no drop, no offset past it
    CHECK(during.outcomes.dropped[static_cast<size_t>(DropCause::invalid_token)] == 0);

    exec_sql(
        "GRANT SELECT (id, project_id, name, api_token, secret_api_token, secret_api_token_backup, anonymize_ips, "
        "heatmaps_opt_in) ON posthog_team TO warden_reader");
    CHECK(wait_for([&] { return running.worker->stats().outcomes.verified == 40; }, 30s));
    CHECK(wait_for([&] { return running.readyz().status == 200; }, 10s));
}
