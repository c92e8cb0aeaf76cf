#include "kafka_client_args.hpp"

#include "option_checks.hpp"
#include "secret_file.hpp"
#include "usage.hpp"

#include <warden/log.hpp>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <set>
#include <stdexcept>

namespace warden::cli {
namespace {

struct CredentialVariable {
    const char* suffix;  // after WARDEN_KAFKA_
    const char* property;
    bool from_file;  // the variable names a file holding the value
};

constexpr CredentialVariable credential_variables[] = {
    {"SECURITY_PROTOCOL", "security.protocol", false},
    {"SASL_MECHANISM", "sasl.mechanism", false},
    {"SASL_USERNAME", "sasl.username", false},
    {"SASL_PASSWORD", "sasl.password", false},
    {"SASL_PASSWORD_FILE", "sasl.password", true},
    {"SSL_CA_LOCATION", "ssl.ca.location", false},
    {"SSL_CERTIFICATE_LOCATION", "ssl.certificate.location", false},
    {"SSL_KEY_LOCATION", "ssl.key.location", false},
    {"SSL_KEY_PASSWORD", "ssl.key.password", false},
    {"SSL_KEY_PASSWORD_FILE", "ssl.key.password", true},
};

std::string help_footer() {
    std::string footer =
        "Kafka credentials may also come from the environment (empty means unset; flags win, a config file "
        "loses):\n";
    for (const CredentialVariable& v : credential_variables) {
        footer += "  WARDEN_KAFKA_" + std::string(v.suffix) + std::string(28 - std::strlen(v.suffix), ' ') +
                  (v.from_file ? "file holding " : "") + v.property + "\n";
    }
    return footer;
}

std::string lowercase(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

KafkaProperties parsed(const std::vector<std::string>& texts) {
    KafkaProperties out;
    for (const std::string& text : texts) {
        try {
            out.push_back(parse_kafka_property(text));
        } catch (const std::invalid_argument& e) {
            throw UsageError(e.what());  // checked at parse time already; kept for direct callers
        }
    }
    return out;
}

void register_credentials(const KafkaProperties& properties) {
    for (const auto& [name, value] : properties) {
        if (is_sensitive_property(name)) log::add_sensitive_value(value);
    }
}

}  // namespace

bool is_sensitive_property(std::string_view name) {
    // librdkafka's own list of sensitive properties (those it redacts in its configuration dumps)
    // names sasl.username, sasl.password, sasl.oauthbearer.config, ssl.key.password, ssl.key.pem,
    // ssl_key and ssl.keystore.password; sasl.oauthbearer.client.secret came later. Every name
    // with "password" or "secret" covers the future ones. Paths (ssl.key.location,
    // ssl.keystore.location) and public certificates are left readable: errors about them need them.
    const std::string lower = lowercase(name);
    static const std::set<std::string, std::less<>> exact = {"sasl.username", "sasl.oauthbearer.config", "ssl.key.pem",
                                                             "ssl_key"};
    return exact.contains(lower) || lower.find("password") != std::string::npos ||
           lower.find("secret") != std::string::npos;
}

void add_kafka_client_options(CLI::App& command, KafkaClientArgs& args) {
    command.add_option("--brokers", args.brokers, "Kafka bootstrap servers, host:port[,host:port...]")
        ->required()
        ->envname("WARDEN_BROKERS")
        ->check(not_empty("host:port[,host:port...]"));
    // One value per occurrence: `--kafka-property a=1 b=2` is a mistake, not two properties.
    const auto add_properties = [&command](const char* name, std::vector<std::string>& values, const char* help,
                                           bool names_file = false) {
        command.add_option(name, values, help)->check(kafka_property_text(names_file))->allow_extra_args(false);
    };
    add_properties("--kafka-property", args.kafka_properties,
                   "librdkafka property name=value for the consumer and the producer alike, such as "
                   "security.protocol=SASL_SSL; repeatable; applied after warden's defaults and before "
                   "--consumer-property / --producer-property");
    add_properties("--kafka-property-file", args.kafka_property_files,
                   "name=FILE: a librdkafka property for both clients whose value is the content of FILE "
                   "(its final line break removed), for mounted secrets such as sasl.password=/run/secrets/kafka; "
                   "repeatable; applied after --kafka-property",
                   true);
    add_properties("--consumer-property", args.consumer_properties,
                   "librdkafka consumer property name=value, repeatable; applied last, so it wins");
    add_properties("--producer-property", args.producer_properties,
                   "librdkafka producer property name=value, repeatable; applied last, so it wins");
    command.footer(help_footer());
}

const std::vector<EnvironmentValue>& kafka_environment_values() {
    static const std::vector<EnvironmentValue> values = [] {
        std::vector<EnvironmentValue> out;
        for (const CredentialVariable& v : credential_variables) {
            out.push_back({"WARDEN_KAFKA_" + std::string(v.suffix),
                           v.from_file ? "kafka-property-file" : "kafka-property", std::string(v.property) + "="});
        }
        return out;
    }();
    return values;
}

ClientProperties client_properties(const KafkaClientArgs& args) {
    const KafkaProperties inline_values = parsed(args.kafka_properties);
    const KafkaProperties files = parsed(args.kafka_property_files);
    const KafkaProperties consumer_only = parsed(args.consumer_properties);
    const KafkaProperties producer_only = parsed(args.producer_properties);
    for (const KafkaProperties* list : {&inline_values, &consumer_only, &producer_only}) register_credentials(*list);

    KafkaProperties shared = inline_values;
    for (const auto& [name, path] : files) {
        const bool also_inline = std::any_of(inline_values.begin(), inline_values.end(),
                                             [&name = name](const auto& p) { return p.first == name; });
        if (also_inline) {
            throw UsageError(name +
                             " is given both as a value (--kafka-property or a WARDEN_KAFKA_* variable) and "
                             "as a file (--kafka-property-file or a WARDEN_KAFKA_*_FILE variable); give it one way");
        }
        shared.emplace_back(
            name, read_secret_file(name, path, "--kafka-property takes values, --kafka-property-file takes files",
                                   SecretFilePart::content_without_final_line_breaks));
    }
    for (const KafkaProperties* list : std::initializer_list<const KafkaProperties*>{&shared, &producer_only}) {
        for (const auto& [name, value] : *list) {
            // A transactional producer must begin a transaction before it produces: only the
            // exactly-once mode does that.
            if (name == "transactional.id") {
                throw UsageError(
                    "transactional.id cannot be set as a Kafka property; use --processing-guarantee "
                    "exactly-once with --transactional-id");
            }
        }
    }
    ClientProperties out{shared, shared};
    out.consumer.insert(out.consumer.end(), consumer_only.begin(), consumer_only.end());
    out.producer.insert(out.producer.end(), producer_only.begin(), producer_only.end());
    // librdkafka judges names and values now, so that a typo is a usage error before anything
    // is contacted. Its message names the property, never the value.
    for (const KafkaProperties* client : {&out.consumer, &out.producer}) {
        try {
            check_kafka_properties(*client);
        } catch (const std::runtime_error& e) {
            throw UsageError(e.what());
        }
    }
    return out;
}

void check_kafka_clients(const KafkaProperties& consumer, const KafkaProperties& producer) {
    const auto check = [](KafkaClientRole role, const KafkaProperties& properties, const char* which) {
        try {
            check_kafka_client(role, properties);
        } catch (const std::runtime_error& e) {
            throw UsageError(std::string("librdkafka refuses the ") + which + " settings (" + e.what() +
                             "); correct the --kafka-property, --" + which + "-property or WARDEN_KAFKA_* settings");
        }
    };
    check(KafkaClientRole::consumer, consumer, "consumer");
    if (!producer.empty()) check(KafkaClientRole::producer, producer, "producer");
}

}  // namespace warden::cli
