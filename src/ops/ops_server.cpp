// /metrics, /healthz and /readyz, answered by the ops HTTP server, and with signing secrets the
// admin endpoints.
#include <warden/log.hpp>
#include <warden/ops.hpp>

#include "admin_endpoint.hpp"
#include "http_server.hpp"

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <stdexcept>

namespace warden {
namespace {

// The reason may quote a dependency's error (a table name in quotes, a broker's address): written
// as JSON, and redacted like a log line.
http::Response health_response(bool ok, const std::string& reason) {
    rapidjson::StringBuffer out;
    rapidjson::Writer<rapidjson::StringBuffer> json(out);
    json.StartObject();
    json.Key("status");
    json.String(ok ? "ok" : "unavailable");
    if (!reason.empty()) {
        const std::string redacted = log::redact(reason);
        json.Key("reason");
        json.String(redacted.data(), static_cast<rapidjson::SizeType>(redacted.size()));
    }
    json.EndObject();
    return {ok ? 200 : 503, "application/json", std::string(out.GetString(), out.GetSize()) + "\n"};
}

}  // namespace

class OpsServer::Impl {
public:
    Impl(const std::string& address, StatsSource stats, MetricsContext context, std::optional<OpsAdmin> admin)
        : stats_(std::move(stats)),
          context_(std::move(context)),
          admin_(admin ? std::make_unique<AdminEndpoint>(std::move(*admin)) : nullptr),
          server_(listen(address)) {
        log::info("serving /metrics, /healthz and /readyz", {{"address", address}, {"port", std::to_string(port())}});
        if (admin_) {
            log::info("serving the admin endpoints POST /admin/teams/{id}/invalidate and POST /admin/cache/flush",
                      {{"port", std::to_string(port())}});
        }
    }

    int port() const { return server_->port(); }

private:
    std::unique_ptr<http::Server> listen(const std::string& address) {
        http::Routes routes;
        routes["/metrics"] = [this] {
            std::vector<prometheus::MetricFamily> families =
                worker_metric_families(stats_(), context_, std::chrono::steady_clock::now());
            if (admin_) families.push_back(admin_->metric_family());
            return http::Response{200, "text/plain; version=0.0.4; charset=utf-8",
                                  prometheus::TextSerializer().Serialize(families)};
        };
        routes["/healthz"] = [this] {
            const Health h = evaluate_health(stats_(), std::chrono::steady_clock::now(), context_.health);
            return health_response(h.live, h.live ? "" : h.reason);
        };
        routes["/readyz"] = [this] {
            const Health h = evaluate_health(stats_(), std::chrono::steady_clock::now(), context_.health);
            return health_response(h.ready, h.reason);
        };
        http::PostRoutes post;
        if (admin_) {
            post.claims = &AdminEndpoint::claims;
            post.answer = [this](const http::PostRequest& request) { return admin_->answer(request); };
        }
        try {
            return std::make_unique<http::Server>(address, std::move(routes), http::Limits{}, std::move(post));
        } catch (const std::runtime_error& e) {
            throw std::runtime_error("cannot serve metrics on " + address + ": " + e.what() +
                                     " (set --metrics-address to a free host:port, or 'off')");
        }
    }

    StatsSource stats_;
    MetricsContext context_;
    std::unique_ptr<AdminEndpoint> admin_;  // with signing secrets only
    std::unique_ptr<http::Server> server_;  // last: stopped before what its routes use goes away
};

OpsServer::OpsServer(const std::string& address, StatsSource stats, MetricsContext context,
                     std::optional<OpsAdmin> admin)
    : impl_(std::make_unique<Impl>(address, std::move(stats), std::move(context), std::move(admin))) {}
OpsServer::~OpsServer() = default;
int OpsServer::port() const { return impl_->port(); }

}  // namespace warden
