// The delivery stage: outputs to a sink, acknowledgements back, the committable prefix advanced.
#include <doctest/doctest.h>

#include <warden/delivery.hpp>

#include <deque>
#include <string>
#include <vector>

using namespace warden;

namespace {

// Keeps what it was sent and acknowledges only when told, like a broker that answers late.
class HeldSink final : public OutputSink {
public:
    struct Sent {
        std::string topic;
        OutputRecord record;
        SourceTag source;
    };
    void send(const std::string& topic, const OutputRecord& record, const SourceTag& source) override {
        sent.push_back({topic, record, source});
        pending.push_back(source);
    }
    void poll(std::chrono::milliseconds) override {
        ++polls;
        if (ack_on_poll && !pending.empty()) ack_next();
    }
    size_t in_flight() const override { return pending.size(); }
    uint64_t take_refused_outputs() override { return std::exchange(refused, 0); }

    void ack_next() {
        const SourceTag source = pending.front();
        pending.pop_front();
        acknowledge(source);
    }
    void ack_all() {
        while (!pending.empty()) ack_next();
    }

    std::vector<Sent> sent;
    std::deque<SourceTag> pending;
    bool ack_on_poll = false;
    int polls = 0;
    uint64_t refused = 0;
};

// A batch result built one message at a time, each delivered as it is added.
struct Messages {
    // Adds a message with `outputs` records to `destination` and delivers it as the input at `source`.
    DestinationBytes deliver(Delivery& delivery, const SourceTag& source, uint32_t outputs,
                             Destination destination = Destination::analytics) {
        MessageOutcome outcome;
        outcome.first_record = static_cast<uint32_t>(result.records.size());
        outcome.record_count = outputs;
        for (uint32_t i = 0; i < outputs; ++i) {
            OutputRecord record;
            record.destination = destination;
            record.key = "1:user";
            record.value = "{\"event\":\"e\"}";
            result.records.push_back(std::move(record));
        }
        result.outcomes.push_back(outcome);
        return delivery.deliver(source, result.outcomes.back(), result);
    }
    BatchResult result;
};

}  // namespace

TEST_CASE("delivery: an offset becomes committable only when it and every earlier one are acknowledged") {
    HeldSink sink;
    Delivery delivery(sink, TopicNames{});
    const uint32_t epoch = delivery.assign(0);
    Messages messages;
    messages.deliver(delivery, {0, 10, epoch}, 2);  // analytics + a second output
    messages.deliver(delivery, {0, 11, epoch}, 0);  // a drop
    messages.deliver(delivery, {0, 12, epoch}, 1);
    CHECK(sink.sent.size() == 3);
    CHECK(delivery.in_flight() == 3);
    CHECK_FALSE(delivery.take_committable(0));

    sink.ack_next();  // offset 10's first output: 10 still waits for its second
    CHECK_FALSE(delivery.take_committable(0));
    sink.ack_next();
    CHECK(delivery.take_committable(0) == 12);  // 10 and the dropped 11
    sink.ack_next();
    CHECK(delivery.take_committable(0) == 13);
    CHECK_FALSE(delivery.take_committable(0));  // taken once
}

TEST_CASE("delivery: records go to their destination's topic, with the stage's extra headers") {
    HeldSink sink;
    TopicNames topics;
    topics.heatmaps = "custom_heatmaps";
    Delivery delivery(sink, topics, {{"replayed", "true"}});
    const uint32_t epoch = delivery.assign(3);
    Messages messages;
    const DestinationBytes analytics = messages.deliver(delivery, {3, 0, epoch}, 1);
    const DestinationBytes heatmaps = messages.deliver(delivery, {3, 1, epoch}, 1, Destination::heatmaps);
    REQUIRE(sink.sent.size() == 2);
    CHECK(sink.sent[0].topic == "events_analytics");
    CHECK(sink.sent[1].topic == "custom_heatmaps");
    for (const auto& sent : sink.sent) {
        REQUIRE(sent.record.headers.size() == 1);
        CHECK(sent.record.headers[0].name == "replayed");
        CHECK(sent.record.headers[0].value == "true");
    }
    const size_t bytes = std::string("1:user").size() + std::string("{\"event\":\"e\"}").size();
    CHECK(analytics[static_cast<size_t>(Destination::analytics)] == bytes);
    CHECK(heatmaps[static_cast<size_t>(Destination::heatmaps)] == bytes);
    CHECK(heatmaps[static_cast<size_t>(Destination::analytics)] == 0);
}

TEST_CASE("delivery: acknowledgements from an earlier assignment of a partition do not count") {
    HeldSink sink;
    Delivery delivery(sink, TopicNames{});
    const uint32_t first = delivery.assign(0);
    Messages messages;
    messages.deliver(delivery, {0, 5, first}, 1);
    delivery.forget(0);  // revoked before the broker answered
    CHECK(delivery.partitions().empty());
    CHECK_FALSE(delivery.epoch_of(0));

    const uint32_t second = delivery.assign(0);  // and assigned back, from the committed offset
    CHECK(second != first);
    CHECK(delivery.epoch_of(0) == second);
    messages.deliver(delivery, {0, 5, second}, 1);
    sink.ack_next();  // the old assignment's output: ignored
    CHECK_FALSE(delivery.take_committable(0));
    sink.ack_next();
    CHECK(delivery.take_committable(0) == 6);
}

TEST_CASE("delivery: a drain waits for the named partitions only, and gives up at its deadline") {
    HeldSink sink;
    Delivery delivery(sink, TopicNames{});
    const uint32_t p0 = delivery.assign(0);
    const uint32_t p1 = delivery.assign(1);
    CHECK(delivery.partitions().size() == 2);
    Messages messages;
    messages.deliver(delivery, {0, 0, p0}, 1);
    messages.deliver(delivery, {1, 0, p1}, 1);

    const auto soon = OutputSink::Clock::now() + std::chrono::milliseconds(20);
    CHECK_FALSE(delivery.drain_all(soon));  // nobody acknowledges: the deadline ends it
    CHECK(sink.polls > 0);

    sink.ack_next();  // partition 0's output
    const std::vector<int32_t> only_0 = {0};
    CHECK(delivery.drain(only_0, OutputSink::Clock::now()));  // done before any wait
    const std::vector<int32_t> only_1 = {1};
    CHECK_FALSE(delivery.drain(only_1, OutputSink::Clock::now()));

    sink.ack_on_poll = true;
    CHECK(delivery.drain_all(OutputSink::Clock::now() + std::chrono::seconds(10)));
    CHECK(delivery.in_flight() == 0);
}

TEST_CASE("delivery: outputs the sink replaced by dead letters are counted as message_too_large") {
    HeldSink sink;
    Delivery delivery(sink, TopicNames{});
    OutcomeCounters counters;
    sink.refused = 3;
    delivery.collect_refused(counters);
    CHECK(counters.dead_letters[static_cast<size_t>(DeadLetterReason::message_too_large)] == 3);
    CHECK(counters.produced[static_cast<size_t>(Destination::dead_letter)] == 3);
    delivery.collect_refused(counters);  // taken once
    CHECK(counters.dead_letters[static_cast<size_t>(DeadLetterReason::message_too_large)] == 3);
}

// A delivery stage over a sink that acknowledges inside send(), with partition 0 assigned.
struct Discarding {
    DiscardSink sink;
    Delivery delivery{sink, TopicNames{}};
    uint32_t epoch = delivery.assign(0);
    Messages messages;
};

TEST_CASE_FIXTURE(Discarding, "delivery: a sink that acknowledges inside send, like the file and discard sinks") {
    messages.deliver(delivery, {0, 0, epoch}, 2);
    messages.deliver(delivery, {0, 1, epoch}, 1);
    CHECK(delivery.in_flight() == 0);
    CHECK(delivery.take_committable(0) == 2);
}

TEST_CASE_FIXTURE(Discarding, "delivery: offsets of a partition must increase") {
    messages.deliver(delivery, {0, 7, epoch}, 0);
    CHECK_THROWS_AS(messages.deliver(delivery, {0, 7, epoch}, 0), std::logic_error);
}

TEST_CASE("delivery: an offset the audit trail holds is committed only once the audit records are acknowledged") {
    HeldSink sink;
    Delivery delivery(sink, TopicNames{});
    AuditTrail trail(FingerprintKey::from_secret("0123456789abcdef-key", "test"));
    delivery.attach_audit(trail, "audit_topic");
    const uint32_t epoch = delivery.assign(0);
    Team team;
    team.id = 2;
    Resolution resolution;
    resolution.team = &team;
    MessageOutcome stripped;
    stripped.verification = Verification::stripped;
    stripped.stripped_from = strip_place(StripPlace::properties);

    // Offset 10 is stripped (the trail holds it), 11 is an ordinary drop.
    Messages messages;
    MessageView view;
    view.offset = 10;
    messages.result.outcomes.push_back(stripped);
    messages.result.outcomes.back().audit_hold = trail.observe(view, resolution, stripped, 0);
    REQUIRE(messages.result.outcomes.back().audit_hold);
    delivery.deliver({0, 10, epoch}, messages.result.outcomes.back(), messages.result);
    messages.deliver(delivery, {0, 11, epoch}, 0);
    CHECK_FALSE(delivery.take_committable(0));  // the audit record is not even sent yet

    delivery.flush_audit(/*force=*/false);  // the interval is not over
    CHECK(sink.sent.empty());
    delivery.flush_audit(/*force=*/true);
    REQUIRE(sink.sent.size() == 1);
    CHECK(sink.sent[0].topic == "audit_topic");
    CHECK_FALSE(delivery.take_committable(0));
    sink.ack_all();
    CHECK(delivery.take_committable(0) == 12);
}

TEST_CASE("delivery: draining sends the open audit interval first, since it may hold the offsets drained") {
    HeldSink sink;
    sink.ack_on_poll = true;
    Delivery delivery(sink, TopicNames{});
    AuditTrail trail(FingerprintKey::from_secret("0123456789abcdef-key", "test"));
    delivery.attach_audit(trail, "audit_topic");
    const uint32_t epoch = delivery.assign(5);
    MessageOutcome quota;
    quota.drop = DropCause::quota_limited;
    MessageView view;
    view.partition = 5;
    view.offset = 7;
    quota.audit_hold = trail.observe(view, Resolution{}, quota, 0);
    BatchResult result;
    delivery.deliver({5, 7, epoch}, quota, result);
    const int32_t partitions[] = {5};
    CHECK(delivery.drain(partitions, OutputSink::Clock::now() + std::chrono::seconds(5)));
    CHECK(sink.sent.size() == 1);
    CHECK(delivery.take_committable(5) == 8);
    CHECK(trail.records_taken() == 1);
}

TEST_CASE("delivery: without an audit trail attached, audit holds are ignored") {
    HeldSink sink;
    Delivery delivery(sink, TopicNames{});
    const uint32_t epoch = delivery.assign(0);
    MessageOutcome held;
    held.audit_hold = true;
    BatchResult result;
    delivery.deliver({0, 3, epoch}, held, result);
    CHECK(delivery.take_committable(0) == 4);
}
