// The Kafka worker with the PostgreSQL store: a server outage mid-stream pauses processing and
// loses or drops nothing.
#include <doctest/doctest.h>

#include "../../src/kafka/handles.hpp"

#include <warden/kafka.hpp>
#include <warden/teams.hpp>

#include "pg_test_env.hpp"

#include <libpq-fe.h>

#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>

using namespace warden;
using namespace std::chrono_literals;

namespace {

using pgtest::env;

void exec_sql(const std::string& sql) {
    std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(env("WARDEN_TEST_PG").c_str()), PQfinish);
    REQUIRE(PQstatus(conn.get()) == CONNECTION_OK);
    std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(conn.get(), sql.c_str()), PQclear);
    REQUIRE(PQresultStatus(r.get()) == PGRES_COMMAND_OK);
}

// Produces `count` messages whose secret tokens belong to teams 200.., a new team every 50
// messages, so the stream keeps needing the store.
void produce_secret_events(const std::string& brokers, int first, int count) {
    kafka::ClientPtr producer = kafka::make_client(RD_KAFKA_PRODUCER, kafka::make_conf({{"bootstrap.servers", brokers}}));
    for (int i = first; i < first + count; ++i) {
        const std::string token = "phs_OutageTeam" + std::to_string(200 + i / 50);
        char uuid[40];
        std::snprintf(uuid, sizeof uuid, "01900a3c-8f1e-7a2b-9c3d-%012d", i);
        const std::string value = std::string(R"({"uuid":")") + uuid + R"(","distinct_id":"u)" + std::to_string(i) +
                                  R"(","event":"$pageview","data":"{}","token":")" + token + R"("})";
        REQUIRE(rd_kafka_producev(producer.get(), RD_KAFKA_V_TOPIC("events_plugin_ingestion"),
                                  RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    REQUIRE(rd_kafka_flush(producer.get(), 10'000) == RD_KAFKA_RESP_ERR_NO_ERROR);
}

bool wait_for(const std::function<bool()>& done, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        if (done()) return true;
        std::this_thread::sleep_for(20ms);
    }
    return done();
}

}  // namespace

TEST_CASE("worker: a PostgreSQL outage mid-stream pauses processing and drops nothing") {
    constexpr int teams = 10, per_team = 50, total = teams * per_team;
    exec_sql("DELETE FROM posthog_team WHERE id >= 200 AND id < 300");
    for (int t = 200; t < 200 + teams; ++t) {
        exec_sql("INSERT INTO posthog_team (id, project_id, api_token, secret_api_token) VALUES (" + std::to_string(t) +
                 ", 1, 'phc_OutageTeam" + std::to_string(t) + "', 'phs_OutageTeam" + std::to_string(t) + "')");
    }

    MockCluster cluster;
    for (const char* topic : {"events_plugin_ingestion", "events_analytics", "events_error_tracking",
                              "events_heatmaps", "events_dlq"}) {
        cluster.create_topic(topic, 2);
    }
    PostgresStoreOptions store_options;
    store_options.conninfo = env("WARDEN_TEST_PG");
    store_options.min_backoff = 50ms;
    store_options.max_backoff = 200ms;
    PostgresTeamStore store(store_options);
    TeamCache cache(store);

    WorkerOptions options;
    options.brokers = cluster.bootstraps();
    options.group = "outage-test";
    options.batch_size = 50;
    options.consumer_properties = {{"fetch.wait.max.ms", "10"}, {"session.timeout.ms", "6000"}};
    Worker worker(options, cache);
    std::thread runner([&] { worker.run(); });

    // Half the stream with the store up.
    produce_secret_events(cluster.bootstraps(), 0, total / 2);
    REQUIRE(wait_for([&] { return worker.stats().outcomes.consumed == total / 2; }, 20s));

    // Stop the server; the second half arrives while it is down.
    REQUIRE(std::system(env("WARDEN_TEST_PG_STOP").c_str()) == 0);
    produce_secret_events(cluster.bootstraps(), total / 2, total / 2);
    CHECK(wait_for([&] { return !worker.stats().store_available; }, 10s));
    std::this_thread::sleep_for(1s);
    const WorkerStats during = worker.stats();
    CHECK(during.outcomes.consumed < total);  // waits rather than deciding without the store
    CHECK(during.outcomes.dropped[static_cast<size_t>(DropCause::invalid_token)] == 0);
    CHECK(during.paused);
    // Lag stays current while fetching is paused: the second half shows up as lag.
    CHECK(wait_for([&] {
        int64_t lag = 0;
        for (const auto& [partition, value] : worker.stats().lag) lag += value;
        return lag >= total / 2;
    }, 10s));

    REQUIRE(std::system(env("WARDEN_TEST_PG_START").c_str()) == 0);
    CHECK(wait_for([&] { const auto s = worker.stats(); return s.outcomes.consumed == total && s.in_flight == 0; }, 30s));
    worker.request_stop();
    runner.join();

    const WorkerStats after = worker.stats();
    MESSAGE("outage: " << after.store_waits << " store waits, " << after.outcomes.verified << " of " << total
                       << " verified");
    CHECK(after.store_available);
    CHECK(after.store_waits > 0);
    CHECK(after.outcomes.consumed == total);
    CHECK(after.outcomes.verified == total);
    CHECK(after.outcomes.dropped[static_cast<size_t>(DropCause::invalid_token)] == 0);
    CHECK(after.outcomes.produced[static_cast<size_t>(Destination::analytics)] == total);
}
