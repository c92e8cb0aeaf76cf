#include "team_store_args.hpp"

#include "option_checks.hpp"
#include "secret_file.hpp"
#include "stop_signals.hpp"

#include <warden/pipeline.hpp>

#include <stdexcept>

namespace warden::cli {

void add_team_store_options(CLI::App& command, TeamStoreArgs& args) {
    CLI::Option* file = command.add_option("--teams", args.teams_file, "Teams file (JSON array of team objects)")
                            ->envname("WARDEN_TEAMS");
    CLI::Option* postgres =
        command
            .add_option("--postgres", args.postgres,
                        "PostgreSQL connection string or URI of the posthog_team table (see deploy/sql); "
                        "the password comes from PGPASSWORD, ~/.pgpass or --postgres-password-file")
            ->envname("WARDEN_POSTGRES");
    file->excludes(postgres);
    command.parse_complete_callback([&args] {
        if (args.teams_file.empty() && args.postgres.empty()) {
            throw CLI::RequiredError("a team store: --teams FILE or --postgres CONNINFO");
        }
    });
    command
        .add_option("--postgres-password-file", args.postgres_password_file,
                    "File holding the PostgreSQL password: its first line exactly, without the line ending")
        ->envname("WARDEN_POSTGRES_PASSWORD_FILE");
    command.add_option("--postgres-table", args.postgres_table, "Table of teams")
        ->envname("WARDEN_POSTGRES_TABLE")
        ->capture_default_str()
        ->check(not_empty("a table name"));
    command
        .add_option("--postgres-key-table", args.postgres_key_table,
                    "Table of project secret API keys (deploy/sql/004); empty: keys are not looked up")
        ->envname("WARDEN_POSTGRES_KEY_TABLE")
        ->capture_default_str();
    command
        .add_option("--project-key-scope", args.project_key_scope,
                    "Scope a project secret API key needs for its events to be verified; a key without it is "
                    "refused (insufficient_scope)")
        ->envname("WARDEN_PROJECT_KEY_SCOPE")
        ->capture_default_str()
        ->check(not_empty("a scope"));
    command.add_option("--cache-ttl-ms", args.cache_ttl_ms, "Team cache time-to-live (±10 % jitter)")
        ->envname("WARDEN_CACHE_TTL_MS")
        ->capture_default_str()
        ->check(whole_number<int64_t>(1));
    command
        .add_option(
            "--max-store-queries-per-second", args.max_store_queries_per_second,
            "Cap on PostgreSQL queries; a flood of unknown tokens waits instead (0: no cap; a teams file has none)")
        ->envname("WARDEN_MAX_STORE_QUERIES_PER_SECOND")
        ->capture_default_str()
        ->check(number_at_least(0));
}

void add_store_wait_option(CLI::App& command, TeamStoreArgs& args) {
    command
        .add_option("--store-wait-timeout-ms", args.store_wait_timeout_ms,
                    "Longest wait for an unavailable team store (at start or mid-run) before exiting 1; "
                    "a store that refuses the login, or lacks the table or a column, exits 1 at once")
        ->envname("WARDEN_STORE_WAIT_TIMEOUT_MS")
        ->capture_default_str()
        ->check(whole_number<int64_t>(0));
}

PostgresStoreOptions postgres_store_options(const TeamStoreArgs& args) {
    PostgresStoreOptions options;
    options.conninfo = args.postgres;
    options.table = args.postgres_table;
    options.key_table = args.postgres_key_table;
    options.ingestion_scope = args.project_key_scope;
    if (!args.postgres_password_file.empty()) {
        options.password = read_secret_file("--postgres-password-file", args.postgres_password_file,
                                            "--postgres-password-file takes the name of a file holding the password",
                                            SecretFilePart::first_line);
    }
    return options;
}

std::unique_ptr<TeamStore> open_team_store(const TeamStoreArgs& args) {
    if (!args.teams_file.empty()) return FileTeamStore::load(args.teams_file, args.project_key_scope);
    if (args.postgres.empty()) throw std::runtime_error("no team store: give --teams FILE or --postgres CONNINFO");
    try {
        return std::make_unique<PostgresTeamStore>(postgres_store_options(args));
    } catch (const std::invalid_argument& e) {
        throw std::runtime_error(e.what());
    }
}

bool wait_for_team_store(TeamCache& cache, const TeamStoreArgs& args) {
    const auto limit = std::chrono::milliseconds(args.store_wait_timeout_ms);
    return StoreWaiter(cache, RetryPolicy::Options::giving_up_after(limit), sleep_unless_stopped).until_store_answers();
}

void check_team_store(TeamCache& cache) {
    if (!cache.check_store() && cache.last_failure() == StoreFailure::permanent) throw store_failed_error(cache);
}

TeamCacheOptions team_cache_options(const TeamStoreArgs& args) {
    TeamCacheOptions options;
    options.ttl = std::chrono::milliseconds(args.cache_ttl_ms);
    // The cap keeps a flood of unknown tokens from becoming a flood of queries; a teams file is
    // looked up in memory, where it would only make the flood wait.
    options.max_store_fetches_per_second = args.postgres.empty() ? 0 : args.max_store_queries_per_second;
    return options;
}

std::vector<std::unique_ptr<TeamCache>> thread_team_caches(SharedTeamStore& shared, const TeamStoreArgs& args,
                                                           size_t threads) {
    TeamCacheOptions options = team_cache_options(args);
    options.max_store_fetches_per_second /= static_cast<double>(threads);
    std::vector<std::unique_ptr<TeamCache>> caches;
    for (size_t i = 0; i < threads; ++i) caches.push_back(std::make_unique<TeamCache>(shared.view(i), options));
    return caches;
}

}  // namespace warden::cli
