// Broker answers that pass once the cluster settles: worth asking again, within a deadline,
// rather than failing a start-up or a lookup on them.
#pragma once

#include <librdkafka/rdkafka.h>

namespace warden::kafka {

// A partition's leadership is moving (a leader change, a broker restarting, a topic just
// created); the answer changes once the client knows the new leader.
constexpr bool leadership_in_flux(rd_kafka_resp_err_t err) {
    switch (err) {
        case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
        case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
        case RD_KAFKA_RESP_ERR_REPLICA_NOT_AVAILABLE:
        case RD_KAFKA_RESP_ERR_FENCED_LEADER_EPOCH:
        case RD_KAFKA_RESP_ERR_UNKNOWN_LEADER_EPOCH:
        case RD_KAFKA_RESP_ERR_OFFSET_NOT_AVAILABLE:  // a new leader whose high watermark lags
        case RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR:
        case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
        case RD_KAFKA_RESP_ERR__TRANSPORT: return true;
        default: return false;
    }
}

// The group coordinator is moving, loading its offsets, or does not answer yet.
constexpr bool coordinator_in_flux(rd_kafka_resp_err_t err) {
    switch (err) {
        case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
        case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
        case RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS:
        case RD_KAFKA_RESP_ERR__TIMED_OUT:
        case RD_KAFKA_RESP_ERR__TRANSPORT: return true;
        default: return false;
    }
}

}  // namespace warden::kafka
