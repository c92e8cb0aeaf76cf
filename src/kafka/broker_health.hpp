// Whether the Kafka brokers answer, judged from evidence rather than from local calls: answered
// requests (the start-up metadata, the lag watch's watermark queries) on one side, librdkafka's
// error events (all brokers down, connection and name resolution failures) and failed requests
// on the other. The latest evidence wins. Thread-safe: the processing loop, the lag watch and
// the metrics server use one instance.
#pragma once

#include <librdkafka/rdkafka.h>

#include <mutex>
#include <string>

namespace warden::kafka {

class BrokerHealth {
public:
    struct Status {
        bool reachable = false;  // the brokers answered, and nothing since says they stopped
        std::string issue;       // why not, for /readyz and log lines; empty when reachable
    };

    // A request was answered by the brokers.
    void answered();
    // A request the brokers should have answered failed; `what` names it and the error.
    void request_failed(const std::string& what);
    // An error event of a client (librdkafka's error callback). Logs it (redacted, as every line).
    void client_error(rd_kafka_t* client, rd_kafka_resp_err_t error, const char* reason);

    Status status() const;
    // The last connection problem librdkafka reported, e.g. "Connect to ... failed: Connection
    // refused"; empty when there was none.
    std::string last_connection_error() const;

    // An error callback for a client whose opaque is the BrokerHealth.
    static void on_client_error(rd_kafka_t* client, int error, const char* reason, void* opaque);

private:
    // Failed requests in a row after which brokers that answered before count as gone. One
    // failure can be a slow answer on a loaded machine; librdkafka's own "all brokers are down"
    // event needs no confirmation.
    static constexpr int failures_to_conclude = 2;

    mutable std::mutex mutex_;
    bool answered_once_ = false;
    bool reachable_ = false;
    int failures_in_a_row_ = 0;
    std::string last_connection_error_;
    std::string issue_ = "no answer from the Kafka brokers yet";
};

}  // namespace warden::kafka
