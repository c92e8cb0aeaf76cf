// The worker's figures as Prometheus families, built from a WorkerStats snapshot at scrape time.
#include <warden/build_info.hpp>
#include <warden/ops.hpp>

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <deque>
#include <fstream>
#include <iterator>
#include <limits>
#include <unistd.h>

namespace warden {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

class Families {
public:
    MetricFamily& family(std::string name, std::string help, MetricType type) {
        out_.push_back(MetricFamily{std::move(name), std::move(help), type, {}});
        return out_.back();
    }
    void counter(std::string name, std::string help, double value) {
        family(std::move(name), std::move(help), MetricType::Counter).metric.push_back(counter_metric({}, value));
    }
    void gauge(std::string name, std::string help, double value) {
        family(std::move(name), std::move(help), MetricType::Gauge).metric.push_back(gauge_metric({}, value));
    }
    static ClientMetric counter_metric(std::vector<ClientMetric::Label> labels, double value) {
        ClientMetric m;
        m.label = std::move(labels);
        m.counter.value = value;
        return m;
    }
    static ClientMetric gauge_metric(std::vector<ClientMetric::Label> labels, double value) {
        ClientMetric m;
        m.label = std::move(labels);
        m.gauge.value = value;
        return m;
    }
    void histogram(std::string name, std::string help, const LatencyHistogram& h) {
        ClientMetric m;
        uint64_t cumulative = 0;
        for (size_t i = 0; i < h.counts.size(); ++i) {
            cumulative += h.counts[i];
            const double bound = i < LatencyHistogram::bounds.size() ? LatencyHistogram::bounds[i]
                                                                     : std::numeric_limits<double>::infinity();
            m.histogram.bucket.push_back({cumulative, bound});
        }
        m.histogram.sample_count = h.count;
        m.histogram.sample_sum = h.sum_seconds;
        family(std::move(name), std::move(help), MetricType::Histogram).metric.push_back(std::move(m));
    }
    std::vector<MetricFamily> take() {
        return {std::make_move_iterator(out_.begin()), std::make_move_iterator(out_.end())};
    }

private:
    std::deque<MetricFamily> out_;  // references handed out stay valid as families are added
};

constexpr DropCause drop_causes[] = {DropCause::no_token, DropCause::invalid_token, DropCause::heatmap_opt_in_disabled,
                                     DropCause::quota_limited, DropCause::insufficient_scope};
constexpr DeadLetterReason dlq_reasons[] = {DeadLetterReason::failed_parse_message, DeadLetterReason::empty_uuid,
                                            DeadLetterReason::invalid_uuid, DeadLetterReason::message_too_large};

// Resident and peak resident memory of this process, from /proc.
std::pair<double, double> process_memory() {
    std::ifstream status("/proc/self/status");
    std::string key;
    double rss = 0, peak = 0;
    while (status >> key) {
        double kib = 0;
        if (key == "VmRSS:" && status >> kib) rss = kib * 1024;
        if (key == "VmHWM:" && status >> kib) peak = kib * 1024;
    }
    return {rss, peak};
}

}  // namespace

Health evaluate_health(const WorkerStats& s, std::chrono::steady_clock::time_point now, const HealthPolicy& policy) {
    Health h;
    const QuotaStats& q = s.quota;
    if (q.refreshed && !q.loaded && q.wait_for_first) {
        // Nothing runs before the first set of quota limits (--quota-startup wait): waiting is
        // not a dead loop, and it is the one reason not to be ready.
        h.live = true;
        h.reason = "the quota limits were not read yet" + (q.last_error.empty() ? "" : ": " + q.last_error);
        return h;
    }
    h.live = s.last_progress.time_since_epoch().count() != 0 && now - s.last_progress <= policy.loop_stall;
    const bool producer_stalled =
        s.in_flight > 0 && now - std::max(s.last_delivery, s.outputs_waiting_since) > policy.delivery_stall;
    const bool quota_stale = q.refreshed && q.loaded && now - q.loaded_at > policy.quota_staleness;
    h.ready = h.live && s.brokers_reached && s.group_joined && s.store_available && !producer_stalled && !quota_stale;
    if (!h.live) {
        h.reason = "the processing loop made no progress";
    } else if (!s.brokers_reached) {
        h.reason = s.broker_issue.empty() ? "no answer from the Kafka brokers yet" : s.broker_issue;
    } else if (!s.group_joined) {
        h.reason = s.group_lost ? "the consumer group moved on without this worker; rejoining"
                                : "joining the consumer group (no assignment yet)";
    } else if (!s.store_available) {
        h.reason = "the team store is unavailable" + (s.store_error.empty() ? "" : ": " + s.store_error);
    } else if (producer_stalled) {
        h.reason = "outputs are waiting and none was acknowledged recently";
    } else if (quota_stale) {
        const auto age = std::chrono::duration_cast<std::chrono::seconds>(now - q.loaded_at).count();
        h.reason = "the quota limits were last read " + std::to_string(age) + " s ago (the last ones still apply)" +
                   (q.last_error.empty() ? "" : ": " + q.last_error);
    }
    return h;
}

std::vector<MetricFamily> worker_metric_families(const WorkerStats& s, const MetricsContext& ctx,
                                                 std::chrono::steady_clock::time_point now) {
    Families f;
    const OutcomeCounters& o = s.outcomes;

    auto& verified =
        f.family("warden_verified_property_total", "Events whose $verified was set (secret token) or stripped (forged)",
                 MetricType::Counter);
    verified.metric.push_back(Families::counter_metric({{"action", "verified"}}, static_cast<double>(o.verified)));
    verified.metric.push_back(Families::counter_metric({{"action", "stripped"}}, static_cast<double>(o.stripped)));

    auto& dropped = f.family("warden_events_dropped_total", "Events dropped, by cause", MetricType::Counter);
    for (DropCause c : drop_causes) {
        dropped.metric.push_back(Families::counter_metric({{"cause", std::string(to_string(c))}},
                                                          static_cast<double>(o.dropped[static_cast<size_t>(c)])));
    }
    auto& dlq = f.family("warden_events_dlq_total", "Messages dead-lettered, by reason", MetricType::Counter);
    for (DeadLetterReason r : dlq_reasons) {
        dlq.metric.push_back(Families::counter_metric({{"reason", std::string(to_string(r))}},
                                                      static_cast<double>(o.dead_letters[static_cast<size_t>(r)])));
    }
    auto& produced =
        f.family("warden_events_produced_total", "Output messages produced, by topic", MetricType::Counter);
    auto& produced_bytes =
        f.family("warden_produced_bytes_total", "Key and value bytes produced, by topic", MetricType::Counter);
    for (const auto& [topic, count] : ctx.topics.by_topic(o.produced)) {
        produced.metric.push_back(Families::counter_metric({{"topic", topic}}, static_cast<double>(count)));
    }
    for (const auto& [topic, bytes] : ctx.topics.by_topic(s.produced_bytes)) {
        produced_bytes.metric.push_back(Families::counter_metric({{"topic", topic}}, static_cast<double>(bytes)));
    }
    f.family("warden_events_consumed_total", "Input messages consumed, by topic", MetricType::Counter)
        .metric.push_back(Families::counter_metric({{"topic", ctx.input_topic}}, static_cast<double>(o.consumed)));
    f.family("warden_consumed_bytes_total", "Key and value bytes consumed, by topic", MetricType::Counter)
        .metric.push_back(
            Families::counter_metric({{"topic", ctx.input_topic}}, static_cast<double>(s.consumed_bytes)));
    f.counter("warden_secrets_redacted_total", "Outputs in which a secret token was found and redacted",
              static_cast<double>(o.redacted));

    auto& lag = f.family("warden_consumer_lag",
                         "Messages between the committable offset and the high watermark, per assigned partition",
                         MetricType::Gauge);
    for (const auto& [partition, value] : s.lag) {
        lag.metric.push_back(Families::gauge_metric(
            {{"topic", ctx.input_topic}, {"partition", std::to_string(partition)}}, static_cast<double>(value)));
    }

    const TeamCache::Stats& c = s.team_cache;
    f.counter("warden_team_cache_hits_total", "Token lookups answered by a cached team", static_cast<double>(c.hits));
    f.counter("warden_team_cache_negative_hits_total", "Token lookups answered by a cached unknown-token entry",
              static_cast<double>(c.negative_hits));
    f.counter("warden_team_cache_misses_total", "Token lookups that needed the store", static_cast<double>(c.misses));
    f.counter("warden_team_cache_evictions_total", "Cache entries evicted (capacity, rotation notices, flushes)",
              static_cast<double>(c.evictions));
    auto& entries = f.family("warden_team_cache_entries", "Cached entries, by kind", MetricType::Gauge);
    entries.metric.push_back(Families::gauge_metric({{"kind", "team"}}, static_cast<double>(c.teams)));
    entries.metric.push_back(
        Families::gauge_metric({{"kind", "unknown_token"}}, static_cast<double>(c.negative_entries)));
    f.counter("warden_team_store_queries_total", "Team store queries (one per batch of cache misses)",
              static_cast<double>(c.store_fetches));
    f.counter("warden_team_store_errors_total", "Team store queries that failed", static_cast<double>(c.store_errors));
    f.counter("warden_team_store_throttled_total", "Team store queries that waited for the query cap",
              static_cast<double>(c.throttled_fetches));
    f.histogram("warden_team_store_query_duration_seconds", "Team store query latency", c.store_latency);
    f.gauge("warden_team_store_available",
            "1 while the team store answers, 0 while it does not (a batch may wait for it)", s.store_available ? 1 : 0);

    f.histogram("warden_batch_duration_seconds", "Processing of one batch, from the team lookup to its outputs queued",
                s.batch_latency);
    f.counter("warden_batches_total", "Batches processed", static_cast<double>(s.batches));
    f.counter("warden_store_waits_total", "Times a batch waited for an unavailable team store",
              static_cast<double>(s.store_waits));
    f.gauge("warden_producer_queue_messages", "Messages in the producer's queue",
            static_cast<double>(s.producer_queue));
    f.gauge("warden_outputs_in_flight", "Outputs produced and not yet acknowledged", static_cast<double>(s.in_flight));
    f.counter("warden_outputs_delivered_total", "Outputs acknowledged by the broker", static_cast<double>(s.delivered));
    f.counter("warden_delivery_errors_total",
              "Failed deliveries (produced again, or replaced by a dead letter when refused as too large)",
              static_cast<double>(s.delivery_errors));
    f.counter("warden_dead_letters_cut_total", "Dead letters cut to the size the producer or broker accepts",
              static_cast<double>(s.dead_letters_cut));
    f.gauge("warden_brokers_reachable", "1 while the Kafka brokers answer", s.brokers_reached ? 1 : 0);
    f.counter("warden_commit_failures_total", "Offset commits that failed", static_cast<double>(s.commit_failures));
    auto& transactions =
        f.family("warden_transactions_total",
                 "Exactly-once transactions, by outcome (an aborted one is processed again)", MetricType::Counter);
    transactions.metric.push_back(
        Families::counter_metric({{"outcome", "committed"}}, static_cast<double>(s.transactions_committed)));
    transactions.metric.push_back(
        Families::counter_metric({{"outcome", "aborted"}}, static_cast<double>(s.transactions_aborted)));
    f.histogram("warden_transaction_duration_seconds",
                "Exactly-once transactions, from begin to commit or abort (outputs wait this long for "
                "read_committed consumers)",
                s.transaction_duration);
    f.counter("warden_rebalances_total", "Partition assignments and revocations", static_cast<double>(s.rebalances));
    f.gauge("warden_assigned_partitions", "Partitions assigned to this worker",
            static_cast<double>(s.assigned_partitions));
    f.counter("warden_fetch_stall_seconds_total",
              "Time the processing loop waited for input while the broker held more than was fetched (near 0 "
              "when healthy)",
              std::chrono::duration<double>(s.fetch_stall).count());
    f.gauge("warden_fetch_paused", "1 while fetching is paused (backpressure or team store away)", s.paused ? 1 : 0);

    if (s.quota.refreshed) {
        const QuotaStats& q = s.quota;
        auto& limits = f.family("warden_quota_limits", "Quota limits in force in the last set read, by resource",
                                MetricType::Gauge);
        for (size_t r = 0; r < quota_resource_count; ++r) {
            limits.metric.push_back(Families::gauge_metric({{"resource", std::string(to_string(QuotaResource(r)))}},
                                                           static_cast<double>(q.limits[r])));
        }
        f.gauge("warden_quota_loaded", "1 once a set of quota limits was read", q.loaded ? 1 : 0);
        f.gauge("warden_quota_age_seconds", "Time since the quota limits were last read (0 before the first)",
                q.loaded ? std::chrono::duration<double>(now - q.loaded_at).count() : 0);
        f.counter("warden_quota_refresh_failures_total",
                  "Refreshes of the quota limits that failed (the last set read stays in force)",
                  static_cast<double>(q.failures));
    }

    if (s.key_usage) {
        const KeyUsageStats& u = *s.key_usage;
        auto& keys = f.family("warden_project_key_usage_keys_total",
                              "Project secret API keys on their way to last_used_at: noted (once per interval), sent, "
                              "updated (rows written), dropped (the pending set was full)",
                              MetricType::Counter);
        for (const auto& [outcome, count] : {std::pair{"noted", u.noted}, std::pair{"sent", u.sent},
                                             std::pair{"updated", u.updated}, std::pair{"dropped", u.dropped}}) {
            keys.metric.push_back(Families::counter_metric({{"outcome", outcome}}, static_cast<double>(count)));
        }
        f.counter("warden_project_key_usage_write_failures_total",
                  "Writes of keys' last use that failed (their keys are sent again)", static_cast<double>(u.failures));
        f.gauge("warden_project_key_usage_pending", "Keys waiting for the next write of their last use",
                static_cast<double>(u.pending));
    }

    // Every kind, zeros included, so that an alert's rate() has a series from the start.
    auto& audit = f.family("warden_audit_occurrences_total",
                           "Security-relevant occurrences the audit trail recorded, by kind (its records' counts add "
                           "up to these)",
                           MetricType::Counter);
    for (size_t k = 0; k < audit_kind_count; ++k) {
        audit.metric.push_back(Families::counter_metric({{"kind", std::string(to_string(AuditKind(k)))}},
                                                        static_cast<double>(s.audit_occurrences[k])));
    }
    f.counter("warden_audit_records_total", "Audit records sent to the audit topic",
              static_cast<double>(s.audit_records));

    const Health health = evaluate_health(s, now, ctx.health);
    f.gauge("warden_live", "1 while the processing loop makes progress", health.live ? 1 : 0);
    f.gauge("warden_ready", "1 while the worker is ready (see /readyz)", health.ready ? 1 : 0);

    const auto [rss, peak] = process_memory();
    f.gauge("warden_process_resident_memory_bytes", "Resident memory of the process", rss);
    f.gauge("warden_process_peak_resident_memory_bytes", "Peak resident memory of the process", peak);

    const BuildInfo build = build_info();
    f.family("warden_build_info", "Versions of warden and of the librdkafka it runs with; always 1", MetricType::Gauge)
        .metric.push_back(Families::gauge_metric({{"version", build.version}, {"librdkafka", build.librdkafka}}, 1));
    return f.take();
}

std::string render_metrics(const WorkerStats& stats, const MetricsContext& context) {
    return prometheus::TextSerializer().Serialize(
        worker_metric_families(stats, context, std::chrono::steady_clock::now()));
}

}  // namespace warden
