#include "broker_health.hpp"

#include <warden/log.hpp>

namespace warden::kafka {
namespace {

// Errors that say a broker could not be reached or spoken to, as opposed to errors of one request.
bool is_connection_error(rd_kafka_resp_err_t error) {
    switch (error) {
        case RD_KAFKA_RESP_ERR__TRANSPORT:
        case RD_KAFKA_RESP_ERR__RESOLVE:
        case RD_KAFKA_RESP_ERR__AUTHENTICATION:
        case RD_KAFKA_RESP_ERR__SSL:
        case RD_KAFKA_RESP_ERR__TIMED_OUT: return true;
        default: return false;
    }
}

}  // namespace

void BrokerHealth::answered() {
    std::lock_guard lock(mutex_);
    answered_once_ = true;
    reachable_ = true;
    failures_in_a_row_ = 0;
    issue_.clear();
}

void BrokerHealth::request_failed(const std::string& what) {
    std::lock_guard lock(mutex_);
    const std::string cause =
        last_connection_error_.empty() ? what : what + "; last connection error: " + last_connection_error_;
    if (!answered_once_) {
        issue_ = "cannot reach the Kafka brokers: " + cause;
    } else if (++failures_in_a_row_ >= failures_to_conclude) {
        reachable_ = false;
        issue_ = "the Kafka brokers stopped answering: " + cause;
    }
}

void BrokerHealth::client_error(rd_kafka_t* client, rd_kafka_resp_err_t error, const char* reason) {
    // Library texts can quote configuration: they are redacted before they are kept or shown.
    const std::string text = log::redact(reason ? reason : rd_kafka_err2str(error));
    log::write(error == RD_KAFKA_RESP_ERR__FATAL ? log::Level::error : log::Level::warn, text,
               {{"component", "librdkafka"}, {"error", rd_kafka_err2name(error)}, {"client", rd_kafka_name(client)}});
    std::lock_guard lock(mutex_);
    if (error == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
        reachable_ = false;
        issue_ =
            std::string(answered_once_ ? "the Kafka brokers are unreachable: " : "cannot reach the Kafka brokers: ") +
            text + (last_connection_error_.empty() ? "" : "; last error: " + last_connection_error_);
    } else if (is_connection_error(error)) {
        last_connection_error_ = text;
        if (!answered_once_) issue_ = "cannot reach the Kafka brokers: " + text;
    }
}

BrokerHealth::Status BrokerHealth::status() const {
    std::lock_guard lock(mutex_);
    return {reachable_, reachable_ ? std::string() : issue_};
}

std::string BrokerHealth::last_connection_error() const {
    std::lock_guard lock(mutex_);
    return last_connection_error_;
}

void BrokerHealth::on_client_error(rd_kafka_t* client, int error, const char* reason, void* opaque) {
    static_cast<BrokerHealth*>(opaque)->client_error(client, static_cast<rd_kafka_resp_err_t>(error), reason);
}

}  // namespace warden::kafka
