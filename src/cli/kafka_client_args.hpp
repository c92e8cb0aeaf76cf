// The Kafka client settings that `run` and `replay` share: the brokers, librdkafka properties for
// both clients and for each one, and credentials from the environment or from files.
#pragma once

#include "layered_args.hpp"

#include <warden/kafka_properties.hpp>

#include <CLI/CLI.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace warden::cli {

struct KafkaClientArgs {
    std::string brokers;
    std::vector<std::string> kafka_properties;      // name=value, both clients
    std::vector<std::string> kafka_property_files;  // name=/path: the value is the file's content
    std::vector<std::string> consumer_properties;   // name=value
    std::vector<std::string> producer_properties;
};

// --brokers, --kafka-property, --kafka-property-file, --consumer-property, --producer-property,
// and a help footer listing the WARDEN_KAFKA_* variables.
void add_kafka_client_options(CLI::App& command, KafkaClientArgs& args);

// The WARDEN_KAFKA_* variables, for layered_arguments: each adds one property to
// --kafka-property (e.g. WARDEN_KAFKA_SASL_PASSWORD) or --kafka-property-file (…_FILE).
const std::vector<EnvironmentValue>& kafka_environment_values();

struct ClientProperties {
    KafkaProperties consumer;  // each applied after warden's own settings for that client
    KafkaProperties producer;
};

// Each client's properties, in the order they apply (a later one wins): --kafka-property, the
// --kafka-property-file values, then the client's own --consumer-property / --producer-property.
// Reads the files and registers every credential among the values with log::add_sensitive_value,
// so nothing prints them afterwards; call it before creating a client or logging anything.
// Throws UsageError for a property given both inline and as a file or one librdkafka refuses
// (an unknown name, a bad value), std::runtime_error for a file that cannot be read or is empty.
ClientProperties client_properties(const KafkaClientArgs& args);

// Creates and discards a client from each final configuration (warden's settings and the
// operator's, `bootstrap.servers` included), before anything connects: what librdkafka refuses
// only when a client is created (an unknown SASL mechanism, an empty group.id) is wrong usage,
// reported without any value. An empty `producer` (a dry run) is not checked. Throws UsageError.
void check_kafka_clients(const KafkaProperties& consumer, const KafkaProperties& producer);

// Whether the librdkafka property `name` holds a credential.
bool is_sensitive_property(std::string_view name);

}  // namespace warden::cli
