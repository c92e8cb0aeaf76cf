// BrokerHealth: readiness evidence about the Kafka brokers, from answers and error events.
#include "kafka/broker_health.hpp"

#include <warden/log.hpp>

#include <doctest/doctest.h>

using warden::kafka::BrokerHealth;

namespace {

// A client only for the name librdkafka's error events carry; it connects nowhere.
struct QuietClient {
    QuietClient() {
        char errstr[256];
        rd_kafka_conf_t* conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof errstr);
        client = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    }
    ~QuietClient() { rd_kafka_destroy(client); }
    rd_kafka_t* client = nullptr;
};

// Keeps the log lines of a test out of its output.
struct SilentLog {
    SilentLog() {
        warden::log::set_sink([](const std::string&) {});
    }
    ~SilentLog() { warden::log::set_sink(nullptr); }
};

}  // namespace

TEST_CASE("broker health: nothing is assumed before the brokers answer") {
    BrokerHealth health;
    CHECK_FALSE(health.status().reachable);
    CHECK(health.status().issue == "no answer from the Kafka brokers yet");
    health.answered();
    CHECK(health.status().reachable);
    CHECK(health.status().issue.empty());
}

TEST_CASE("broker health: a connection failure before the first answer is the reported cause") {
    SilentLog silent;
    QuietClient q;
    BrokerHealth health;
    health.client_error(q.client, RD_KAFKA_RESP_ERR__TRANSPORT,
                        "127.0.0.1:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed: Connection refused");
    CHECK_FALSE(health.status().reachable);
    CHECK(health.status().issue.find("cannot reach the Kafka brokers: ") == 0);
    CHECK(health.status().issue.find("Connection refused") != std::string::npos);
    health.client_error(q.client, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, "1/1 brokers are down");
    CHECK(health.status().issue.find("1/1 brokers are down") != std::string::npos);
    CHECK(health.status().issue.find("Connection refused") != std::string::npos);  // the cause stays named
    health.request_failed("metadata request failed: Local: Broker transport failure");
    CHECK(health.status().issue.find("Connection refused") != std::string::npos);
}

TEST_CASE("broker health: all brokers down after answers turns unreachable at once, an answer turns it back") {
    SilentLog silent;
    QuietClient q;
    BrokerHealth health;
    health.answered();
    // One broker of several going away is not the cluster going away.
    health.client_error(q.client, RD_KAFKA_RESP_ERR__TRANSPORT, "broker 2: Disconnected");
    CHECK(health.status().reachable);
    health.client_error(q.client, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, "3/3 brokers are down");
    CHECK_FALSE(health.status().reachable);
    CHECK(health.status().issue.find("the Kafka brokers are unreachable: 3/3 brokers are down") == 0);
    CHECK(health.status().issue.find("broker 2: Disconnected") != std::string::npos);
    health.answered();
    CHECK(health.status().reachable);
}

TEST_CASE("broker health: failed requests after answers need confirmation before they count") {
    BrokerHealth health;
    health.answered();
    health.request_failed("watermark query failed: Local: Timed out");
    CHECK(health.status().reachable);  // one slow answer on a loaded machine
    health.request_failed("watermark query failed: Local: Timed out");
    CHECK_FALSE(health.status().reachable);
    CHECK(health.status().issue.find("the Kafka brokers stopped answering: watermark query failed") == 0);
    health.answered();
    health.request_failed("watermark query failed: Local: Timed out");
    CHECK(health.status().reachable);  // the count starts again after an answer
}

TEST_CASE("broker health: credentials in library texts are redacted before they are kept") {
    SilentLog silent;
    QuietClient q;
    warden::log::add_sensitive_value("s3cr3t-sasl-password");
    BrokerHealth health;
    health.client_error(q.client, RD_KAFKA_RESP_ERR__AUTHENTICATION,
                        "SASL authentication failed for s3cr3t-sasl-password");
    CHECK(health.status().issue.find("s3cr3t") == std::string::npos);
    CHECK(health.last_connection_error().find("[redacted]") != std::string::npos);
    warden::log::clear_sensitive_values();
}
