#include "run_args.hpp"

#include "layered_args.hpp"
#include "option_checks.hpp"
#include "secret_file.hpp"
#include "shared_options.hpp"
#include "thread_count.hpp"
#include "usage.hpp"

#include <warden/admin.hpp>
#include <warden/log.hpp>

#include <algorithm>

#include <unistd.h>

namespace warden::cli {
namespace {

// Without --transactional-id: the static member's identity, so a restarted instance fences its
// predecessor at once; else one unique to this process (a predecessor's open transaction then
// ends by the broker's transaction timeout, and the group generation still fences it).
std::string default_transactional_id(const WorkerOptions& w) {
    if (!w.group_instance_id.empty()) return "warden-" + w.group + "-" + w.group_instance_id;
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
    return "warden-" + w.group + "-" + (host[0] ? host : "host") + "-" + std::to_string(getpid());
}

// The admin endpoints' signing secrets, the current first; none without --admin-signing-secret-file.
std::vector<std::string> read_admin_secrets(const RunArgs& args) {
    if (args.admin_secret_file.empty()) {
        if (!args.admin_previous_secret_file.empty()) {
            throw UsageError(
                "--admin-signing-secret-previous-file needs --admin-signing-secret-file: the previous secret is "
                "accepted beside the current one during a rotation");
        }
        return {};
    }
    if (args.metrics_address == "off") {
        throw UsageError(
            "--admin-signing-secret-file needs the ops server: the admin endpoints are served on --metrics-address, "
            "which is off");
    }
    std::vector<std::string> secrets;
    const std::pair<const char*, const std::string*> files[] = {
        {"--admin-signing-secret-file", &args.admin_secret_file},
        {"--admin-signing-secret-previous-file", &args.admin_previous_secret_file}};
    for (const auto& [setting, path] : files) {
        if (path->empty()) continue;
        std::string secret = read_secret_file(setting, *path, std::string(setting) + " takes a file holding the secret",
                                              SecretFilePart::content_without_final_line_breaks);
        if (secret.size() < admin_min_secret_bytes) {
            throw UsageError(std::string(setting) + ": the admin signing secret must hold at least " +
                             std::to_string(admin_min_secret_bytes) + " bytes (such as `openssl rand -hex 32`)");
        }
        secrets.push_back(std::move(secret));
    }
    return secrets;
}

}  // namespace

void add_run_options(CLI::App& cmd_ref, RunArgs& args) {
    CLI::App* cmd = &cmd_ref;
    WorkerOptions& w = args.worker;
    add_config_option(*cmd);
    add_kafka_client_options(*cmd, args.kafka);
    cmd->add_option("--group", w.group, "Consumer group id")
        ->envname("WARDEN_GROUP")
        ->capture_default_str()
        ->check(not_empty("a consumer group id"));
    cmd->add_option(
           "--group-instance-id", w.group_instance_id,
           "Static membership id (group.instance.id): a restart within the session timeout causes no rebalance "
           "(with --threads N above 1, member I of the process has ID-I)")
        ->envname("WARDEN_GROUP_INSTANCE_ID");
    add_processing_guarantee_options(*cmd, args.guarantee, args.transaction_interval_ms, /*envnames=*/true);
    cmd->add_option("--transactional-id", w.transactional_id,
                    "Exactly-once: this instance's transactional.id, stable across restarts and unique in the group "
                    "(default: from --group and --group-instance-id, else host and process id; with --threads N above "
                    "1, member I of the process has ID-I)")
        ->envname("WARDEN_TRANSACTIONAL_ID");
    add_team_store_options(*cmd, args.store);
    add_quota_options(*cmd, args.quota);
    cmd->add_option("--input-topic", w.input_topic, "Topic the capture tier writes to")
        ->envname("WARDEN_INPUT_TOPIC")
        ->capture_default_str()
        ->check(topic_name());
    add_topic_options(*cmd, w.topics);
    add_audit_options(*cmd, args.audit, /*interval=*/true);
    cmd->add_option("--batch-size", w.batch_size, "Messages per processing batch (one team lookup each)")
        ->envname("WARDEN_BATCH_SIZE")
        ->capture_default_str()
        ->check(whole_number<size_t>(1));
    add_threads_option(*cmd, args.threads,
                       "Members of the consumer group in this process, one per thread, each with its own "
                       "consumer, producer and partitions",
                       "WARDEN_THREADS");
    cmd->add_option("--max-in-flight", w.max_in_flight,
                    "Unacknowledged outputs at which fetching pauses (resumes at half), shared among the threads")
        ->envname("WARDEN_MAX_IN_FLIGHT")
        ->capture_default_str()
        ->check(whole_number<size_t>(1));
    cmd->add_option("--shutdown-timeout-ms", args.shutdown_timeout_ms,
                    "Longest drain on SIGTERM/SIGINT before committing what was acknowledged and exiting")
        ->envname("WARDEN_SHUTDOWN_TIMEOUT_MS")
        ->capture_default_str()
        ->check(whole_number<int64_t>(0));
    add_max_message_bytes_option(*cmd, w.limits, "WARDEN_MAX_MESSAGE_BYTES");
    cmd->add_option("--metrics-address", args.metrics_address,
                    "host:port serving /metrics, /healthz and /readyz ('off' disables; port 0 picks one)")
        ->envname("WARDEN_METRICS_ADDRESS")
        ->capture_default_str()
        ->check(listen_address());
    cmd->add_option("--admin-signing-secret-file", args.admin_secret_file,
                    "File holding the secret (32 bytes or more) that signs admin requests; with it --metrics-address "
                    "also serves POST /admin/teams/{id}/invalidate and /admin/cache/flush (see `warden admin`)")
        ->envname("WARDEN_ADMIN_SIGNING_SECRET_FILE");
    cmd->add_option("--admin-signing-secret-previous-file", args.admin_previous_secret_file,
                    "During a rotation of the admin signing secret: file holding the previous one, accepted as well")
        ->envname("WARDEN_ADMIN_SIGNING_SECRET_PREVIOUS_FILE");
    cmd->add_option("--admin-signature-tolerance-s", args.admin_tolerance_s,
                    "How far the time an admin request was signed at may be from this worker's clock, either way "
                    "(accepted signatures are remembered as long, and refused when replayed)")
        ->envname("WARDEN_ADMIN_SIGNATURE_TOLERANCE_S")
        ->capture_default_str()
        ->check(whole_number_range(1, 3600));
    cmd->add_option("--project-key-usage-postgres", args.key_usage_postgres,
                    "PostgreSQL connection string or URI of a role that may update only last_used_at of the key "
                    "table (deploy/sql/005_key_usage_role.sql); with it the project secret API keys presented get "
                    "their last use written, in batches, off the processing path. Needs --postgres")
        ->envname("WARDEN_PROJECT_KEY_USAGE_POSTGRES");
    cmd->add_option("--project-key-usage-password-file", args.key_usage_password_file,
                    "File holding the password of --project-key-usage-postgres: its first line exactly")
        ->envname("WARDEN_PROJECT_KEY_USAGE_PASSWORD_FILE");
    cmd->add_option("--project-key-usage-interval-ms", args.key_usage_interval_ms,
                    "A key's last_used_at is written at most once per interval (by the whole fleet); 1 s to 30 days")
        ->envname("WARDEN_PROJECT_KEY_USAGE_INTERVAL_MS")
        ->capture_default_str()
        ->check(whole_number_range(1000, 2'592'000'000));
}

namespace {

// The key usage writer's connection (--project-key-usage-postgres, its password file read here)
// and the key table. Throws UsageError for a combination that cannot write.
PostgresStoreOptions key_usage_options(const RunArgs& args) {
    if (!args.key_usage_password_file.empty() && args.key_usage_postgres.empty()) {
        throw UsageError("--project-key-usage-password-file needs --project-key-usage-postgres");
    }
    if (args.store.postgres.empty()) {
        throw UsageError("--project-key-usage-postgres needs --postgres: keys are looked up in PostgreSQL only");
    }
    if (args.store.postgres_key_table.empty()) {
        throw UsageError(
            "--project-key-usage-postgres needs the key table, which an empty --postgres-key-table turns off");
    }
    PostgresStoreOptions options;
    options.conninfo = args.key_usage_postgres;
    options.key_table = args.store.postgres_key_table;
    if (!args.key_usage_password_file.empty()) {
        options.password = read_secret_file("--project-key-usage-password-file", args.key_usage_password_file,
                                            "--project-key-usage-password-file takes the name of a file holding "
                                            "the password",
                                            SecretFilePart::first_line);
    }
    return options;
}

}  // namespace

void prepare_run(RunArgs& args) {
    check_topic_roles(args.worker.input_topic, "--input-topic", args.worker.topics);
    args.worker.audit_topic = audit_topic(args.audit, args.worker.input_topic, args.worker.topics);
    args.worker.audit.interval = std::chrono::milliseconds(args.audit.interval_ms);
    if (!args.worker.audit_topic.empty()) {
        args.worker.audit_key = audit_key(args.audit);
        if (args.audit.key_file.empty()) {
            log::info(
                "audit fingerprints use a random key of this process: they compare within it only "
                "(--audit-key-file shares one across a fleet)");
        }
    }
    args.worker.guarantee = processing_guarantee_named(args.guarantee);
    if (args.worker.guarantee == ProcessingGuarantee::exactly_once) {
        if (args.worker.transactional_id.empty()) args.worker.transactional_id = default_transactional_id(args.worker);
        args.worker.transaction_interval = std::chrono::milliseconds(args.transaction_interval_ms);
        log::info("exactly-once processing", {{"transactional_id", args.worker.transactional_id}});
    } else if (!args.worker.transactional_id.empty()) {
        throw UsageError("--transactional-id applies to --processing-guarantee exactly-once only");
    }
    // From here on the credentials among them are redacted wherever they would be printed.
    ClientProperties properties = client_properties(args.kafka);
    args.worker.brokers = args.kafka.brokers;
    args.worker.consumer_properties = std::move(properties.consumer);
    args.worker.producer_properties = std::move(properties.producer);
    check_kafka_clients(worker_consumer_properties(args.worker), worker_producer_properties(args.worker));
    args.worker.shutdown_timeout = std::chrono::milliseconds(args.shutdown_timeout_ms);
    args.admin_secrets = read_admin_secrets(args);
    if (!args.key_usage_postgres.empty() || !args.key_usage_password_file.empty()) {
        args.key_usage = key_usage_options(args);
        register_postgres_credentials(*args.key_usage);
    }
}

std::unique_ptr<KeyUsageRecorder> start_key_usage_recorder(const RunArgs& args) {
    if (!args.key_usage) return nullptr;
    KeyUsageOptions options;
    options.interval = std::chrono::milliseconds(args.key_usage_interval_ms);
    options.flush_period = std::min<std::chrono::milliseconds>(options.interval, std::chrono::seconds(10));
    KeyUsageRecorder::Writer writer;
    try {
        writer = postgres_key_usage_writer(*args.key_usage, options.interval);
    } catch (const std::invalid_argument& e) {
        throw std::runtime_error(e.what());
    }
    auto recorder = std::make_unique<KeyUsageRecorder>(options, std::move(writer));
    recorder->start();
    log::info("writing the last use of project secret API keys",
              {{"table", args.store.postgres_key_table}, {"interval_ms", std::to_string(args.key_usage_interval_ms)}});
    return recorder;
}

}  // namespace warden::cli
