// What `warden check` verifies before a rollout: each dependency of `run`, reached the way `run`
// reaches it, with what was found or what to fix.
#pragma once

#include <warden/core.hpp>
#include <warden/kafka_properties.hpp>
#include <warden/teams.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace warden {

struct DependencyCheck {
    std::string name;  // e.g. "input topic events_plugin_ingestion"
    bool passed = false;
    std::string detail;  // what was found; for a failure, also what to fix
};

struct KafkaDependencies {
    std::string brokers;
    KafkaProperties consumer_properties;  // as `run`'s consumer gets them (worker_consumer_properties)
    std::string group;
    std::string input_topic;
    TopicNames outputs;
    std::string audit_topic;                    // empty: the audit trail is off
    std::chrono::milliseconds timeout{10'000};  // for each request to the brokers
};

// The brokers answer a metadata request; the input topic exists (with its partition count) and so
// does every output topic; the group's committed offsets can be read (with the lag they leave)
// and, where the brokers support it, the group can be described. Nothing is created, joined or
// committed. Checks after a failed metadata request are not attempted.
std::vector<DependencyCheck> check_kafka_dependencies(const KafkaDependencies& dependencies);

// The database accepts the connection; the team lookup runs as `run` prepares it; the role is
// no more than a reader (no superuser or role attributes, no writes on the table, SELECT on the
// columns the lookup reads and no others); LISTEN on the change channel works and the
// notification triggers of deploy/sql/002 are on the table.
std::vector<DependencyCheck> check_postgres_dependencies(const PostgresStoreOptions& options);

}  // namespace warden
