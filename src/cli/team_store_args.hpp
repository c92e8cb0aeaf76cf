// The team store flags shared by run, process and replay: a teams file or PostgreSQL.
#pragma once

#include <warden/teams.hpp>

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

namespace warden::cli {

struct TeamStoreArgs {
    std::string teams_file;
    std::string postgres;  // conninfo
    std::string postgres_password_file;
    std::string postgres_table = "posthog_team";
    int64_t cache_ttl_ms = 120'000;
    double max_store_queries_per_second = 50;
};

// --teams | --postgres (exactly one), --postgres-password-file, --postgres-table, --cache-ttl-ms,
// --max-store-queries-per-second.
void add_team_store_options(CLI::App& command, TeamStoreArgs& args);

// Opens the chosen store. Throws std::runtime_error (unreadable file, bad options).
std::unique_ptr<TeamStore> open_team_store(const TeamStoreArgs& args);

TeamCacheOptions team_cache_options(const TeamStoreArgs& args);

}  // namespace warden::cli
