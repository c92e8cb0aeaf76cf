// The Kafka worker with the PostgreSQL store: a server outage mid-stream pauses processing and
// loses or drops nothing.
#include <doctest/doctest.h>

#include <warden/mock_cluster.hpp>
#include <warden/teams.hpp>
#include <warden/worker.hpp>

#include "worker_test_support.hpp"

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
using pgtest::exec_sql;
using pgtest::wait_for;

// Secret tokens of teams 200.., a new team every 50 messages, so the stream keeps needing the store.
std::string outage_token(int i) { return "phs_OutageTeam" + std::to_string(200 + i / 50); }

}  // namespace

TEST_CASE("worker: a PostgreSQL outage mid-stream pauses processing and drops nothing") {
    constexpr int teams = 10, per_team = 50, total = teams * per_team;
    exec_sql("DELETE FROM posthog_team WHERE id >= 200 AND id < 300");
    for (int t = 200; t < 200 + teams; ++t) {
        exec_sql("INSERT INTO posthog_team (id, project_id, api_token, secret_api_token) VALUES (" + std::to_string(t) +
                 ", 1, 'phc_OutageTeam" + std::to_string(t) + "', 'phs_OutageTeam" + std::to_string(t) + "')");
    }

    MockCluster cluster;
    for (const char* topic : {"events_plugin_ingestion", "events_analytics", "events_error_tracking", "events_heatmaps",
                              "events_dlq", "events_security_audit"}) {
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
    pgtest::produce_events(cluster.bootstraps(), 0, total / 2, outage_token);
    REQUIRE(wait_for([&] { return worker.stats().outcomes.consumed == total / 2; }, 20s));

    // Stop the server; the second half arrives while it is down.
    REQUIRE(std::system(env("WARDEN_TEST_PG_STOP").c_str()) == 0);
    pgtest::produce_events(cluster.bootstraps(), total / 2, total / 2, outage_token);
    CHECK(wait_for([&] { return !worker.stats().store_available; }, 10s));
    std::this_thread::sleep_for(1s);
    const WorkerStats during = worker.stats();
    CHECK(during.outcomes.consumed < total);  // waits rather than deciding without the store
    CHECK(during.outcomes.dropped[static_cast<size_t>(DropCause::invalid_token)] == 0);
    CHECK(during.paused);
    // Lag stays current while fetching is paused: the second half shows up as lag.
    CHECK(wait_for(
        [&] {
            int64_t lag = 0;
            for (const auto& [partition, value] : worker.stats().lag) lag += value;
            return lag >= total / 2;
        },
        10s));

    REQUIRE(std::system(env("WARDEN_TEST_PG_START").c_str()) == 0);
    CHECK(wait_for(
        [&] {
            const auto s = worker.stats();
            return s.outcomes.consumed == total && s.in_flight == 0;
        },
        30s));
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
