// Health evaluation and the Prometheus exposition of worker snapshots.
#include <warden/ops.hpp>

#include <doctest/doctest.h>

using namespace warden;
using namespace std::chrono_literals;

namespace {

WorkerStats healthy_stats(std::chrono::steady_clock::time_point now) {
    WorkerStats s;
    s.brokers_reached = true;
    s.group_joined = true;
    s.last_progress = now - 1s;
    return s;
}

}  // namespace

TEST_CASE(
    "health: live while the loop turns; ready when brokers answer, in the group, store up and outputs delivering") {
    const auto now = std::chrono::steady_clock::now() + 1h;
    const HealthPolicy policy;
    WorkerStats s = healthy_stats(now);
    Health h = evaluate_health(s, now, policy);
    CHECK(h.live);
    CHECK(h.ready);
    CHECK(h.reason.empty());

    WorkerStats waiting = s;  // in the group with no partitions: ready (waiting for an assignment)
    waiting.assigned_partitions = 0;
    CHECK(evaluate_health(waiting, now, policy).ready);

    WorkerStats stuck = s;
    stuck.last_progress = now - 31s;
    h = evaluate_health(stuck, now, policy);
    CHECK_FALSE(h.live);
    CHECK_FALSE(h.ready);
    CHECK(h.reason == "the processing loop made no progress");

    WorkerStats never = s;
    never.last_progress = {};
    CHECK_FALSE(evaluate_health(never, now, policy).live);
}

TEST_CASE("health: each reason for not being ready is named, the first failing check first") {
    const auto now = std::chrono::steady_clock::now() + 1h;
    const HealthPolicy policy;
    const WorkerStats s = healthy_stats(now);

    WorkerStats unanswered = s;  // started, no evidence either way yet
    unanswered.brokers_reached = false;
    Health h = evaluate_health(unanswered, now, policy);
    CHECK(h.live);  // waiting for the brokers is not a dead loop
    CHECK_FALSE(h.ready);
    CHECK(h.reason == "no answer from the Kafka brokers yet");

    WorkerStats unreachable = s;
    unreachable.brokers_reached = false;
    unreachable.broker_issue = "cannot reach the Kafka brokers: Connect to ipv4#127.0.0.1:1 failed: Connection refused";
    unreachable.group_joined = false;  // the brokers are the cause to report, not the group
    h = evaluate_health(unreachable, now, policy);
    CHECK_FALSE(h.ready);
    CHECK(h.reason == unreachable.broker_issue);

    WorkerStats joining = s;
    joining.group_joined = false;
    h = evaluate_health(joining, now, policy);
    CHECK_FALSE(h.ready);
    CHECK(h.reason == "joining the consumer group (no assignment yet)");

    WorkerStats lost = joining;
    lost.group_lost = true;
    h = evaluate_health(lost, now, policy);
    CHECK_FALSE(h.ready);
    CHECK(h.reason.find("moved on without this worker") != std::string::npos);

    WorkerStats store_down = s;
    store_down.store_available = false;
    h = evaluate_health(store_down, now, policy);
    CHECK_FALSE(h.ready);
    CHECK(h.reason.find("store") != std::string::npos);
    store_down.store_error = "PostgreSQL refused the login";
    CHECK(evaluate_health(store_down, now, policy).reason.find("PostgreSQL refused the login") != std::string::npos);

    WorkerStats stalled = s;
    stalled.in_flight = 10;
    stalled.outputs_waiting_since = now - 61s;
    stalled.last_delivery = now - 61s;
    h = evaluate_health(stalled, now, policy);
    CHECK_FALSE(h.ready);
    CHECK(h.reason == "outputs are waiting and none was acknowledged recently");
    stalled.last_delivery = now - 5s;  // still delivering, just busy
    CHECK(evaluate_health(stalled, now, policy).ready);
    stalled.last_delivery = {};
    stalled.outputs_waiting_since = now - 5s;  // the first outputs of the run, just produced
    CHECK(evaluate_health(stalled, now, policy).ready);
}

TEST_CASE("health: quota limits from Redis not read yet, or stale, make the worker not ready") {
    const auto now = std::chrono::steady_clock::now() + 1h;
    const HealthPolicy policy;  // stale after 5 minutes
    WorkerStats s = healthy_stats(now);
    s.quota.refreshed = true;
    s.quota.last_error = "Redis at 127.0.0.1:6379: Connection refused";

    s.last_progress = {};  // nothing runs before the first set (--quota-startup wait)
    Health h = evaluate_health(s, now, policy);
    CHECK(h.live);  // waiting for them is not a dead loop
    CHECK_FALSE(h.ready);
    CHECK(h.reason == "the quota limits were not read yet: Redis at 127.0.0.1:6379: Connection refused");
    s.last_progress = now - 1s;
    s.quota.wait_for_first = false;  // --quota-startup open: consuming without limits is the choice made
    CHECK(evaluate_health(s, now, policy).ready);

    s.quota.loaded = true;
    s.quota.loaded_at = now - 299s;
    CHECK(evaluate_health(s, now, policy).ready);
    s.quota.loaded_at = now - 301s;
    h = evaluate_health(s, now, policy);
    CHECK_FALSE(h.ready);
    CHECK(h.reason ==
          "the quota limits were last read 301 s ago (the last ones still apply): Redis at 127.0.0.1:6379: Connection "
          "refused");

    const std::string text = render_metrics(s, MetricsContext{"in", {}, policy});
    CHECK(text.find("warden_quota_loaded 1") != std::string::npos);
    CHECK(text.find("warden_quota_limits{resource=\"exceptions\"} 0") != std::string::npos);
    CHECK(text.find("warden_quota_refresh_failures_total 0") != std::string::npos);
    CHECK(render_metrics(healthy_stats(now), MetricsContext{}).find("warden_quota") == std::string::npos);
}

TEST_CASE("metrics: the exposition carries the contract's counters with bounded labels") {
    WorkerStats s = healthy_stats(std::chrono::steady_clock::now());
    s.outcomes.consumed = 10;
    s.outcomes.verified = 3;
    s.outcomes.stripped = 2;
    s.outcomes.dropped[static_cast<size_t>(DropCause::invalid_token)] = 4;
    s.outcomes.dead_letters[static_cast<size_t>(DeadLetterReason::invalid_uuid)] = 1;
    s.outcomes.produced[static_cast<size_t>(Destination::heatmaps)] = 7;
    s.lag = {{0, 5}, {3, 0}};
    s.batch_latency.record(0.003);
    s.batch_latency.record(7.0);
    s.fetch_stall = std::chrono::milliseconds(2500);
    s.audit_occurrences[static_cast<size_t>(AuditKind::personal_key_as_token)] = 6;
    s.audit_records = 2;
    MetricsContext ctx{"events_plugin_ingestion", {}, {}};
    const std::string text = render_metrics(s, ctx);

    CHECK(text.find("warden_audit_occurrences_total{kind=\"personal_key_as_token\"} 6") != std::string::npos);
    CHECK(text.find("warden_audit_occurrences_total{kind=\"quota_limited\"} 0") != std::string::npos);
    CHECK(text.find("warden_audit_records_total 2") != std::string::npos);

    CHECK(text.find("warden_verified_property_total{action=\"verified\"} 3") != std::string::npos);
    CHECK(text.find("warden_verified_property_total{action=\"stripped\"} 2") != std::string::npos);
    CHECK(text.find("warden_events_dropped_total{cause=\"invalid_token\"} 4") != std::string::npos);
    CHECK(text.find("warden_events_dropped_total{cause=\"no_token\"} 0") != std::string::npos);
    CHECK(text.find("warden_events_dlq_total{reason=\"invalid_uuid\"} 1") != std::string::npos);
    CHECK(text.find("warden_events_produced_total{topic=\"events_heatmaps\"} 7") != std::string::npos);
    CHECK(text.find("warden_events_consumed_total{topic=\"events_plugin_ingestion\"} 10") != std::string::npos);
    CHECK(text.find("warden_consumer_lag{topic=\"events_plugin_ingestion\",partition=\"0\"} 5") != std::string::npos);
    CHECK(text.find("warden_consumer_lag{topic=\"events_plugin_ingestion\",partition=\"3\"} 0") != std::string::npos);
    // Outputs sharing a topic are one series of it.
    MetricsContext shared{"events_plugin_ingestion", {}, {}};
    shared.topics.error_tracking = shared.topics.heatmaps;
    const std::string shared_text = render_metrics(s, shared);
    CHECK(shared_text.find("warden_events_produced_total{topic=\"events_heatmaps\"} 7") != std::string::npos);
    CHECK(shared_text.find("topic=\"events_error_tracking\"") == std::string::npos);
    // Histogram buckets are cumulative and end in +Inf.
    CHECK(text.find("warden_batch_duration_seconds_bucket{le=\"0.005\"} 1") != std::string::npos);
    CHECK(text.find("warden_batch_duration_seconds_bucket{le=\"5\"} 1") != std::string::npos);
    CHECK(text.find("warden_batch_duration_seconds_bucket{le=\"+Inf\"} 2") != std::string::npos);
    CHECK(text.find("warden_batch_duration_seconds_count 2") != std::string::npos);
    CHECK(text.find("warden_ready 1") != std::string::npos);
    CHECK(text.find("warden_brokers_reachable 1") != std::string::npos);
    CHECK(text.find("warden_dead_letters_cut_total 0") != std::string::npos);
    CHECK(text.find("warden_fetch_stall_seconds_total 2.5") != std::string::npos);
    CHECK(text.find("warden_process_resident_memory_bytes") != std::string::npos);
    // Every family appears once: a family added twice would be rejected by Prometheus.
    size_t families = 0;
    for (size_t at = text.find("# TYPE "); at != std::string::npos; at = text.find("# TYPE ", at + 1)) {
        const std::string name = text.substr(at + 7, text.find(' ', at + 7) - at - 7);
        CHECK_MESSAGE(text.find("# TYPE " + name + " ", at + 1) == std::string::npos, name);
        ++families;
    }
    CHECK(families > 30);
}
