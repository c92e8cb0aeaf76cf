// The admin endpoints of the ops server: POST /admin/teams/{id}/invalidate and POST
// /admin/cache/flush, signed (admin.hpp), acting on every team cache of the process through its
// SharedTeamStore; each request logged and counted, whatever its result.
#pragma once

#include "http_server.hpp"

#include <warden/admin.hpp>
#include <warden/ops.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>

namespace prometheus {
struct MetricFamily;
}

namespace warden {

class AdminEndpoint {
public:
    // Throws std::invalid_argument (never quoting a secret) for unusable settings.
    explicit AdminEndpoint(OpsAdmin options);

    // Whether `path` is one of the admin paths (whatever its team id says).
    static bool claims(std::string_view path);
    // A request to one of them, refused by the server or with its whole body.
    http::Response answer(const http::PostRequest& post);

    // warden_admin_requests_total{action,result}: every pair, zeros included.
    prometheus::MetricFamily metric_family() const;

    enum class Result {
        ok,
        missing_header,
        malformed_header,
        stale_timestamp,
        bad_signature,
        replayed,
        replay_memory_full,
        bad_request,  // a team id that is no positive number, a body naming another action, a bad length
        method_not_allowed,
        length_required,
        body_too_large,
        audit_trail_unavailable,  // a signed request not acted on: the audit trail could not take it
    };
    static constexpr size_t result_count = 12;

private:
    http::Response finish(const AdminAction& action, bool valid_team, Result result, int status,
                          const std::string& reason, std::string_view peer, size_t secret_index = 0);

    // What the audit trail records of a call.
    static AdminAuditEntry audit_entry(const AdminAction& action, bool valid_team, Result result,
                                       std::string_view peer);

    AdminAuthenticator auth_;
    SharedTeamStore& teams_;
    std::shared_ptr<AdminAuditInbox> audit_;  // null: calls are logged and counted only
    // By action (invalidate, flush) and result; written and read by the ops server's thread, and
    // atomic so that nothing else needs to know that.
    std::array<std::array<std::atomic<uint64_t>, result_count>, 2> counts_{};
};

}  // namespace warden
