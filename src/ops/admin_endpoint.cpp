// The admin endpoints: the path says what to do, the signed body must say the same, and what is
// done is what a team store's change notification does, for every cache of the process.
#include "admin_endpoint.hpp"

#include <warden/log.hpp>

#include <prometheus/metric_family.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>
#include <stdexcept>

namespace warden {
namespace {

constexpr std::string_view teams_prefix = "/admin/teams/";
constexpr std::string_view invalidate_suffix = "/invalidate";
constexpr std::string_view flush_path = "/admin/cache/flush";
// A team id of more digits would not fit an int64_t.
constexpr size_t max_team_id_digits = 18;

constexpr AdminEndpoint::Result auth_results[] = {
    AdminEndpoint::Result::ok,
    AdminEndpoint::Result::missing_header,
    AdminEndpoint::Result::malformed_header,
    AdminEndpoint::Result::stale_timestamp,
    AdminEndpoint::Result::bad_signature,
    AdminEndpoint::Result::replayed,
    AdminEndpoint::Result::replay_memory_full,
};
static_assert(std::size(auth_results) == admin_auth_outcome_count);

std::string_view result_name(AdminEndpoint::Result result) {
    using Result = AdminEndpoint::Result;
    switch (result) {
        case Result::ok: return "ok";
        case Result::missing_header: return "missing_header";
        case Result::malformed_header: return "malformed_header";
        case Result::stale_timestamp: return "stale_timestamp";
        case Result::bad_signature: return "bad_signature";
        case Result::replayed: return "replayed";
        case Result::replay_memory_full: return "replay_memory_full";
        case Result::bad_request: return "bad_request";
        case Result::method_not_allowed: return "method_not_allowed";
        case Result::length_required: return "length_required";
        case Result::body_too_large: return "body_too_large";
        case Result::audit_trail_unavailable: return "audit_trail_unavailable";
    }
    return "unknown";
}

AdminEndpoint::Result refusal_result(int status) {
    switch (status) {
        case 405: return AdminEndpoint::Result::method_not_allowed;
        case 411: return AdminEndpoint::Result::length_required;
        case 413: return AdminEndpoint::Result::body_too_large;
        default: return AdminEndpoint::Result::bad_request;
    }
}

// The team id of /admin/teams/{id}/invalidate: digits without a leading zero; 0 when it is not.
int64_t team_id_in(std::string_view path) {
    const std::string_view id =
        path.substr(teams_prefix.size(), path.size() - teams_prefix.size() - invalidate_suffix.size());
    const bool positive = !id.empty() && id.size() <= max_team_id_digits && id.front() != '0' &&
                          id.find_first_not_of("0123456789") == std::string_view::npos;
    return positive ? std::stoll(std::string(id)) : 0;
}

struct Target {
    AdminAction action;
    bool valid_team = true;  // false for an invalidation whose path holds no team id
};

Target target_of(std::string_view path) {
    if (path == flush_path) return {{AdminAction::Kind::flush, 0}, true};
    const int64_t team = team_id_in(path);
    return {{AdminAction::Kind::invalidate, team}, team > 0};
}

http::Response json_answer(int status, const AdminAction& action, const std::string& reason) {
    rapidjson::StringBuffer out;
    rapidjson::Writer<rapidjson::StringBuffer> json(out);
    json.StartObject();
    json.Key("status");
    json.String(status == 200 ? "ok" : status == 401 ? "unauthorized" : "refused");
    if (status == 200) {
        const std::string_view kind = to_string(action.kind);
        json.Key("action");
        json.String(kind.data(), static_cast<rapidjson::SizeType>(kind.size()));
        if (action.kind == AdminAction::Kind::invalidate) {
            json.Key("team_id");
            json.Int64(action.team_id);
        }
    } else {
        json.Key("reason");
        json.String(reason.data(), static_cast<rapidjson::SizeType>(reason.size()));
    }
    json.EndObject();
    http::Response response{status, "application/json", std::string(out.GetString(), out.GetSize()) + "\n"};
    response.allow = "POST";
    return response;
}

SharedTeamStore& required(SharedTeamStore* teams) {
    if (teams == nullptr) throw std::invalid_argument("the admin endpoints need the team store they invalidate");
    return *teams;
}

}  // namespace

AdminEndpoint::AdminEndpoint(OpsAdmin options)
    : auth_(std::move(options.auth), std::move(options.clock)),
      teams_(required(options.teams)),
      audit_(std::move(options.audit)) {}

bool AdminEndpoint::claims(std::string_view path) {
    if (path == flush_path) return true;
    // /admin/teams/{anything without a slash}/invalidate: a bad id is answered 400, not 404.
    return path.size() > teams_prefix.size() + invalidate_suffix.size() && path.starts_with(teams_prefix) &&
           path.ends_with(invalidate_suffix) &&
           path.substr(teams_prefix.size(), path.size() - teams_prefix.size() - invalidate_suffix.size()).find('/') ==
               std::string_view::npos;
}

http::Response AdminEndpoint::answer(const http::PostRequest& post) {
    const Target target = target_of(post.request.path);
    if (post.refusal != 0) {
        return finish(target.action, target.valid_team, refusal_result(post.refusal), post.refusal, post.refusal_reason,
                      post.peer);
    }
    if (!target.valid_team) {
        return finish(target.action, false, Result::bad_request, 400,
                      "the team id in the path must be a positive whole number", post.peer);
    }
    // The signature covers the body, not the path: the body must name what the path asks, or a
    // signature caught on its way could be spent on another action. Checked before the signature
    // is verified and remembered, so that a signature sent to the wrong path is not used up.
    const std::optional<AdminAction> signed_action = parse_admin_request_body(post.body);
    if (!signed_action || signed_action->kind != target.action.kind ||
        signed_action->team_id != target.action.team_id) {
        return finish(target.action, true, Result::bad_request, 400,
                      "the body names another action than the path; sign " + admin_request_body(target.action),
                      post.peer);
    }
    const std::vector<std::string_view> headers = post.request.field_values(admin_signature_header);
    const AdminVerdict verdict =
        headers.size() > 1
            ? AdminVerdict{AdminAuthOutcome::malformed_header, "malformed header: X-Warden-Signature given twice"}
            : auth_.verify(headers.empty() ? std::nullopt : std::optional(headers.front()), post.body);
    if (!verdict.accepted()) {
        const int status = verdict.outcome == AdminAuthOutcome::replay_memory_full ? 429 : 401;
        return finish(target.action, true, auth_results[static_cast<size_t>(verdict.outcome)], status, verdict.reason,
                      post.peer);
    }
    // Recorded before it is acted on: a call the audit trail cannot take is not acted on.
    if (audit_ && !audit_->post_accepted(audit_entry(target.action, true, Result::ok, post.peer))) {
        return finish(target.action, true, Result::audit_trail_unavailable, 503,
                      "the audit trail cannot take admin calls now (the worker is starting, stopping or stalled): "
                      "sign a new request and retry",
                      post.peer);
    }
    TeamStore::Invalidations changes;
    if (target.action.kind == AdminAction::Kind::flush) {
        changes.everything = true;
    } else {
        changes.team_ids.push_back(target.action.team_id);
    }
    teams_.invalidate(changes);
    return finish(target.action, true, Result::ok, 200, "", post.peer, verdict.secret_index);
}

http::Response AdminEndpoint::finish(const AdminAction& action, bool valid_team, Result result, int status,
                                     const std::string& reason, std::string_view peer, size_t secret_index) {
    counts_[static_cast<size_t>(action.kind)][static_cast<size_t>(result)].fetch_add(1, std::memory_order_relaxed);
    if (audit_ && result != Result::ok) audit_->post_refused(audit_entry(action, valid_team, result, peer));
    // Never the signature: whoever reads the log could spend it within the window.
    const std::string team = action.kind == AdminAction::Kind::flush ? "all"
                             : valid_team                            ? std::to_string(action.team_id)
                                                                     : "invalid";
    if (result == Result::ok) {
        log::info("admin request", {{"action", std::string(to_string(action.kind))},
                                    {"team_id", team},
                                    {"result", std::string(result_name(result))},
                                    {"peer", std::string(peer)},
                                    {"signed_with", secret_index == 0 ? "current secret" : "previous secret"}});
    } else {
        // A warning per result: a flood of one refusal is held back to a line a second (with the
        // count of those held back), and cannot hide a refusal of another kind.
        log::warn("refused an admin request: " + std::string(result_name(result)),
                  {{"action", std::string(to_string(action.kind))},
                   {"team_id", team},
                   {"result", std::string(result_name(result))},
                   {"peer", std::string(peer)},
                   {"status", std::to_string(status)},
                   {"reason", reason}});
    }
    return json_answer(status, action, reason);
}

AdminAuditEntry AdminEndpoint::audit_entry(const AdminAction& action, bool valid_team, Result result,
                                           std::string_view peer) {
    AdminAuditEntry entry;
    entry.accepted = result == Result::ok;
    entry.action = to_string(action.kind);
    if (action.kind == AdminAction::Kind::invalidate && valid_team) entry.team = action.team_id;
    entry.result = result_name(result);
    entry.peer = peer;
    entry.first_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    entry.last_ms = entry.first_ms;
    return entry;
}

prometheus::MetricFamily AdminEndpoint::metric_family() const {
    prometheus::MetricFamily family{"warden_admin_requests_total",
                                    "Requests to the admin endpoints, by action and result (ok, or why refused)",
                                    prometheus::MetricType::Counter,
                                    {}};
    for (const AdminAction::Kind kind : {AdminAction::Kind::invalidate, AdminAction::Kind::flush}) {
        for (size_t r = 0; r < result_count; ++r) {
            prometheus::ClientMetric metric;
            metric.label = {{"action", std::string(to_string(kind))}, {"result", std::string(result_name(Result(r)))}};
            metric.counter.value =
                static_cast<double>(counts_[static_cast<size_t>(kind)][r].load(std::memory_order_relaxed));
            family.metric.push_back(std::move(metric));
        }
    }
    return family;
}

}  // namespace warden
