// Probes of a running worker's operations endpoints and of the cluster's topic list, for the
// readiness and start-up check tests.
#pragma once

#include "kafka_test_support.hpp"

#include "../support/http_client.hpp"

#include <optional>
#include <set>
#include <string>

namespace itest {

// GET http://127.0.0.1:port/path with a deadline; nothing when no answer came in time.
using testhttp::http_get;
using testhttp::HttpAnswer;

// The port of the worker's /metrics, /healthz and /readyz, from its log (run with --log-level
// info and --metrics-address 127.0.0.1:0); 0 when it did not log one within `timeout`.
int ops_port(const ChildProcess& worker, Clock::duration timeout);

// The "reason" of a /readyz answer, or "" without one.
std::string health_reason(const HttpAnswer& answer);

// The sum of a metric's series in /metrics (labelled or not), or -1 when it could not be read.
double metric_sum(int port, const std::string& name);

// The topics the cluster lists, asked for all topics so that none is created by asking.
std::set<std::string> listed_topics(const std::string& brokers);

}  // namespace itest
