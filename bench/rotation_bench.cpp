// rotation_bench: how long a rotated-out secret keeps verifying. Each round commits a rotation in
// PostgreSQL (the secret is replaced) and times, from the commit, how long until the team cache
// stops resolving the old secret. Prints p50/p99/max, with warden's default cap on store queries
// (each rotation costs a refetch, so the cap is part of the latency) and without it.
//
//   tests/support/with_postgres.sh build/bench/rotation_bench [--rotations N]
#include <warden/teams.hpp>

#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

using namespace warden;
using Clock = std::chrono::steady_clock;

namespace {

[[noreturn]] void fail(const std::string& why) {
    std::fprintf(stderr, "rotation_bench: %s\n", why.c_str());
    std::exit(1);
}

void exec(PGconn* conn, const std::string& sql) {
    std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(conn, sql.c_str()), PQclear);
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) fail(sql + ": " + PQerrorMessage(conn));
}

double percentile(std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

struct Latency {
    double p50, p99, max;
};

Latency measure(const char* conninfo, PGconn* admin, double cap, int rotations, int& next_secret) {
    PostgresStoreOptions options;
    options.conninfo = conninfo;
    PostgresTeamStore store(options);
    TeamCacheOptions cache_options;
    cache_options.max_store_fetches_per_second = cap;
    TeamCache cache(store, cache_options);
    std::vector<std::shared_ptr<const Team>> teams;
    auto verifies = [&](const std::string& token) {
        cache.apply_store_changes();  // what every batch does first
        std::vector<std::string> tokens{token};
        if (!cache.resolve_batch(tokens, teams)) fail("store unavailable");
        return teams[0] && teams[0]->is_secret(token);
    };

    std::vector<double> millis;
    for (int round = 0; round < rotations; ++round, ++next_secret) {
        const std::string old_secret = "phs_RotationBench" + std::to_string(next_secret);
        const std::string new_secret = "phs_RotationBench" + std::to_string(next_secret + 1);
        if (!verifies(old_secret)) fail("the current secret does not verify");
        exec(admin, "UPDATE posthog_team SET secret_api_token = '" + new_secret + "' WHERE id = 900");
        const auto committed = Clock::now();
        while (verifies(old_secret)) {
            if (Clock::now() - committed > std::chrono::seconds(10)) fail("the old secret still verifies after 10 s");
        }
        millis.push_back(std::chrono::duration<double, std::milli>(Clock::now() - committed).count());
    }
    return {percentile(millis, 0.5), percentile(millis, 0.99), percentile(millis, 1.0)};
}

}  // namespace

int main(int argc, char** argv) {
    int rotations = 200;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (std::string(argv[i]) != "--rotations") continue;
        const std::string_view text(argv[i + 1]);
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), rotations);
        if (error != std::errc() || end != text.data() + text.size()) fail("--rotations takes a whole number");
    }
    if (rotations < 1) fail("--rotations must be positive");
    const char* conninfo = std::getenv("WARDEN_TEST_PG");
    if (!conninfo) fail("WARDEN_TEST_PG is not set: run under tests/support/with_postgres.sh");

    std::unique_ptr<PGconn, decltype(&PQfinish)> admin(PQconnectdb(conninfo), PQfinish);
    if (PQstatus(admin.get()) != CONNECTION_OK) fail(PQerrorMessage(admin.get()));
    exec(admin.get(), "DELETE FROM posthog_team WHERE id = 900");
    exec(admin.get(),
         "INSERT INTO posthog_team (id, project_id, api_token, secret_api_token) "
         "VALUES (900, 900, 'phc_RotationBench', 'phs_RotationBench0')");

    int next_secret = 0;
    const double caps[] = {TeamCacheOptions{}.max_store_fetches_per_second, 0};
    std::string json = "{\"rotations\":" + std::to_string(rotations);
    for (double cap : caps) {
        const Latency l = measure(conninfo, admin.get(), cap, rotations, next_secret);
        char label[64];
        std::snprintf(label, sizeof label, cap > 0 ? "cap %.0f queries/s" : "no query cap", cap);
        std::printf("%-18s p50 %.2f ms, p99 %.2f ms, max %.2f ms over %d rotations (commit -> old secret refused)\n",
                    label, l.p50, l.p99, l.max, rotations);
        char part[160];
        std::snprintf(part, sizeof part, R"(,"%s":{"p50_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f})",
                      cap > 0 ? "default_cap" : "no_cap", l.p50, l.p99, l.max);
        json += part;
    }
    std::printf("%s}\n", json.c_str());
    return 0;
}
