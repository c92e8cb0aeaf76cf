// ops: what operators watch. Prometheus metrics of the worker, and the HTTP endpoints that serve
// them with liveness and readiness.
#pragma once

#include <warden/admin.hpp>
#include <warden/worker_stats.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace prometheus {
struct MetricFamily;
}

namespace warden {

struct HealthPolicy {
    // Live while the processing loop turned within this time.
    std::chrono::milliseconds loop_stall{30'000};
    // The producer counts as unhealthy when outputs are waiting and none was acknowledged for this long.
    std::chrono::milliseconds delivery_stall{60'000};
    // Quota limits last read longer ago than this make the worker not ready (they are still applied).
    std::chrono::milliseconds quota_staleness{300'000};
};

struct Health {
    bool live = false;
    bool ready = false;
    std::string reason;  // why not live or not ready; empty when both hold
};

// Readiness: brokers reached, in the group (an assignment, an empty one too, since the last
// loss), team store answering, producer delivering, quota limits read and not stale (when they
// come from Redis); the reason names the first that fails.
// Liveness: the loop made progress recently.
Health evaluate_health(const WorkerStats& stats, std::chrono::steady_clock::time_point now, const HealthPolicy& policy);

// Where the metrics are labelled from.
struct MetricsContext {
    std::string input_topic;
    TopicNames topics;
    HealthPolicy health;
};

// The worker's figures as Prometheus families (names in the README and dashboards/warden.json).
std::vector<prometheus::MetricFamily> worker_metric_families(const WorkerStats& s, const MetricsContext& ctx,
                                                             std::chrono::steady_clock::time_point now);

// Prometheus text exposition of the worker and process metrics.
std::string render_metrics(const WorkerStats& stats, const MetricsContext& context);

// The admin endpoints of the ops server (see admin.hpp), served only when signing secrets are
// configured: POST /admin/teams/{id}/invalidate and POST /admin/cache/flush.
struct OpsAdmin {
    AdminAuthOptions auth;
    SharedTeamStore* teams = nullptr;     // every cache over its views forgets what a request names
    AdminAuthenticator::UnixClock clock;  // null: the system clock
    // Every call goes to the audit trail through it (a worker takes them); null: no audit trail.
    std::shared_ptr<AdminAuditInbox> audit;
};

// Serves GET /metrics, /healthz and /readyz (200 or 503 with a one-line JSON reason), and with
// `admin` the admin endpoints, each request logged and counted in warden_admin_requests_total.
class OpsServer {
public:
    using StatsSource = std::function<WorkerStats()>;
    // `address` is host:port (port 0 picks a free one). Throws std::runtime_error when it cannot
    // listen, std::invalid_argument for unusable admin settings (never quoting a secret).
    OpsServer(const std::string& address, StatsSource stats, MetricsContext context,
              std::optional<OpsAdmin> admin = std::nullopt);
    ~OpsServer();
    OpsServer(const OpsServer&) = delete;
    OpsServer& operator=(const OpsServer&) = delete;

    int port() const;

private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace warden
