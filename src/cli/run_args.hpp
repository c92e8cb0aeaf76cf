// The settings of `run`, registered and prepared in one place so that `check` loads a
// configuration exactly as `run` does.
#pragma once

#include "audit_args.hpp"
#include "kafka_client_args.hpp"
#include "quota_args.hpp"
#include "team_store_args.hpp"

#include <warden/worker.hpp>

#include <CLI/CLI.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace warden::cli {

struct RunArgs {
    WorkerOptions worker;
    std::string guarantee = "at-least-once";
    int64_t transaction_interval_ms = 100;
    TeamStoreArgs store;
    QuotaArgs quota;
    AuditArgs audit;
    KafkaClientArgs kafka;
    int64_t shutdown_timeout_ms = 30'000;
    std::string metrics_address = "0.0.0.0:9464";
    unsigned threads = 0;                    // 0: the cores available
    std::string admin_secret_file;           // --admin-signing-secret-file: serves the admin endpoints
    std::string admin_previous_secret_file;  // during a rotation, accepted beside the current one
    int64_t admin_tolerance_s = 300;
    std::vector<std::string> admin_secrets;  // read by prepare_run: the current, then the previous
    std::string key_usage_postgres;          // --project-key-usage-postgres: writes keys' last_used_at
    std::string key_usage_password_file;
    int64_t key_usage_interval_ms = 3'600'000;
    std::optional<PostgresStoreOptions> key_usage;  // read by prepare_run, with its password file
};

// Every option of `run` (and of `check`), with its environment variable and its checks.
void add_run_options(CLI::App& cmd, RunArgs& args);

// The checks that span options, then the worker's options completed from the flags: the
// processing guarantee, the Kafka client properties (their credentials registered for redaction
// from here on), timeouts and the admin signing secrets (read and registered likewise). Throws
// UsageError for a combination that cannot run, std::runtime_error for a secret file it cannot
// read.
void prepare_run(RunArgs& args);

// The recorder of project keys' last use, started, when --project-key-usage-postgres is given;
// null otherwise. Throws std::runtime_error for options it cannot use (never quoting a credential).
std::unique_ptr<KeyUsageRecorder> start_key_usage_recorder(const RunArgs& args);

}  // namespace warden::cli
