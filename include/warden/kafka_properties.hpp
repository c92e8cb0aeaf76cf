// kafka_properties: librdkafka settings as warden passes them, and checks of them that run before
// any client contacts a broker.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace warden {

// librdkafka properties applied in order; a later entry overrides an earlier one.
using KafkaProperties = std::vector<std::pair<std::string, std::string>>;

// Parses "name=value" (a name of letters, digits, '.', '_', '-'); throws std::invalid_argument
// saying what is wrong, never quoting the text, which may hold a credential.
std::pair<std::string, std::string> parse_kafka_property(std::string_view text);

// Checks each name and value as librdkafka's configuration would take them. Throws
// std::runtime_error naming the property, never a value.
void check_kafka_properties(const KafkaProperties& properties);

enum class KafkaClientRole { consumer, producer };

// Checks `properties` as librdkafka would for a client of `role`, by creating one and destroying
// it before it contacts anything: unknown names, bad values and what is refused only at client
// creation (an unknown SASL mechanism, say). Throws std::runtime_error naming the property,
// never a value.
void check_kafka_client(KafkaClientRole role, const KafkaProperties& properties);

}  // namespace warden
