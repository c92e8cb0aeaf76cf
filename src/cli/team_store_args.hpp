// The team store flags shared by run, process and replay: a teams file or PostgreSQL.
#pragma once

#include <warden/teams.hpp>

#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <vector>

namespace warden::cli {

struct TeamStoreArgs {
    std::string teams_file;
    std::string postgres;  // conninfo
    std::string postgres_password_file;
    std::string postgres_table = "posthog_team";
    std::string postgres_key_table = "posthog_projectsecretapikey";
    std::string project_key_scope = std::string(default_ingestion_scope);
    int64_t cache_ttl_ms = 120'000;
    double max_store_queries_per_second = 50;
    int64_t store_wait_timeout_ms = 300'000;  // process and replay; run waits for ever
};

// --teams | --postgres (exactly one), --postgres-password-file, --postgres-table, --cache-ttl-ms,
// --max-store-queries-per-second.
void add_team_store_options(CLI::App& command, TeamStoreArgs& args);

// The PostgreSQL store's options from --postgres, --postgres-table and the password file (read
// here; std::runtime_error when it cannot be).
PostgresStoreOptions postgres_store_options(const TeamStoreArgs& args);

// --store-wait-timeout-ms, for the commands that end (process, replay).
void add_store_wait_option(CLI::App& command, TeamStoreArgs& args);

// Opens the chosen store. Throws std::runtime_error (unreadable file, bad options, an unusable
// connection string; never quoting a credential).
std::unique_ptr<TeamStore> open_team_store(const TeamStoreArgs& args);

// For process and replay, before consuming: waits until the store answers, up to
// --store-wait-timeout-ms; false when a stop signal ended the wait. Throws std::runtime_error
// with the cause on a permanent failure or when the wait runs out.
bool wait_for_team_store(TeamCache& cache, const TeamStoreArgs& args);

// For run, before joining the group: throws std::runtime_error with the cause when the store
// failed permanently. A store that is only unavailable is left to the worker, which starts not
// ready and waits for it.
void check_team_store(TeamCache& cache);

TeamCacheOptions team_cache_options(const TeamStoreArgs& args);

// One team cache per thread of `process --threads` or `run --threads`, each over its view of
// `shared`; together they keep to --max-store-queries-per-second.
std::vector<std::unique_ptr<TeamCache>> thread_team_caches(SharedTeamStore& shared, const TeamStoreArgs& args,
                                                           size_t threads);

}  // namespace warden::cli
