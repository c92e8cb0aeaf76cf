// `warden run --processing-guarantee exactly-once` against a real broker (the mock has no
// transactions): outputs and input offsets commit together, so a read_committed reader (as
// read_outputs is) sees each expected output exactly once, whatever kills and fencing happen.
#include <doctest/doctest.h>

#include "integration_checks.hpp"
#include "kafka_test_support.hpp"

#include <cstdio>
#include <cstdlib>
#include <random>

using namespace itest;

namespace {

const std::vector<std::string> exactly_once = {"--processing-guarantee", "exactly-once"};

std::vector<std::string> with(std::vector<std::string> flags, const std::vector<std::string>& more) {
    flags.insert(flags.end(), more.begin(), more.end());
    return flags;
}

// Every expected output present exactly once, nothing else, no secret leaked.
void check_exactly_once(const TestCluster& cluster, const Corpus& corpus, const char* what) {
    const Comparison comparison = check_outputs(cluster, corpus);
    CHECK(comparison.duplicates == 0);
    std::printf("%s: %zu inputs, %zu lost, %zu duplicates\n", what, corpus.messages.size(), comparison.lost,
                comparison.duplicates);
    std::fflush(stdout);
}

}  // namespace

TEST_CASE("exactly-once: workers killed with SIGKILL under load lose and duplicate nothing") {
    if (skipped_on_mock_cluster("transactions")) return;
    constexpr int kills = 5;
    TestCluster cluster;
    Corpus corpus = Corpus::generate(41, 30000);
    const unsigned seed = std::random_device{}();
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> delay_ms(800, 3000);
    MESSAGE("exactly-once crash test seed " << seed);

    // One static identity throughout, as a restarted pod has: the successor fences what its
    // predecessor left open at once instead of after the transaction timeout.
    const std::vector<std::string> flags = with(exactly_once, {"--group-instance-id", "eos-0"});
    InputProducer producer(cluster, corpus);
    PacedFeeder feeder(producer, 0, corpus.messages.size(), 200, 200ms);
    for (int kill = 0; kill < kills; ++kill) {
        auto worker = cluster.start_worker("eos-crash", "killed-" + std::to_string(kill), flags, "info");
        INFO("killed worker " << kill << " stderr:\n" << worker->stderr_tail());
        REQUIRE(wait_for_assignment(*worker, 60s));
        std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
        worker->send(SIGKILL);
        REQUIRE(worker->wait_exit(10s).value_or(-1) == 128 + SIGKILL);
    }
    CHECK(feeder.queued() < corpus.messages.size());  // every kill hit a worker under load
    REQUIRE(feeder.finish(60s));

    auto last = cluster.start_worker("eos-crash", "last", flags, "info");
    INFO("last worker stderr:\n" << last->stderr_tail());
    GroupOffsets offsets(cluster, "eos-crash");
    REQUIRE(offsets.wait_all_committed(120s));
    CHECK(stop_worker(*last) == 0);
    check_exactly_once(cluster, corpus, "exactly-once after 5 SIGKILLs");
}

TEST_CASE("exactly-once: a second instance with the same transactional id fences the first, which stops") {
    if (skipped_on_mock_cluster("transactions")) return;
    TestCluster cluster;
    Corpus corpus = Corpus::generate(43, 12000);
    const std::vector<std::string> flags = with(exactly_once, {"--transactional-id", "eos-twin"});
    InputProducer producer(cluster, corpus);
    // ~12 s of input: the first learns it was fenced at its next transaction, so it must still
    // have work once the second has started, however slowly that goes on a loaded machine.
    PacedFeeder feeder(producer, 0, corpus.messages.size(), 100, 100ms);

    auto first = cluster.start_worker("eos-twin", "first", flags, "info");
    INFO("first worker stderr:\n" << first->stderr_tail());
    REQUIRE(wait_for_assignment(*first, 60s));
    std::this_thread::sleep_for(1500ms);
    auto second = cluster.start_worker("eos-twin", "second", flags, "info");
    INFO("second worker stderr:\n" << second->stderr_tail());

    // The zombie's next transactional call fails for good: it exits non-zero, committing nothing more.
    const std::optional<int> first_exit = first->wait_exit(60s);
    REQUIRE(first_exit);
    CHECK(*first_exit == 1);  // an error, not a crash
    CHECK(first->stderr_text().find("fenced this producer") != std::string::npos);

    REQUIRE(feeder.finish(60s));
    GroupOffsets offsets(cluster, "eos-twin");
    REQUIRE(offsets.wait_all_committed(120s));
    CHECK(stop_worker(*second) == 0);
    check_exactly_once(cluster, corpus, "exactly-once with a fenced twin");
}

TEST_CASE("exactly-once: a worker that learns it was fenced while its partitions are revoked stops too") {
    if (skipped_on_mock_cluster("transactions")) return;
    TestCluster cluster;
    Corpus corpus = Corpus::generate(44, 2000);
    // A transaction open for long: the first worker has produced everything before its twin
    // fences it, so the first call to fail is the commit in its revoke callback.
    const std::vector<std::string> flags =
        with(exactly_once, {"--transactional-id", "eos-revoked", "--transaction-interval-ms", "60000",
                            "--producer-property", "transaction.timeout.ms=60000"});
    auto first = cluster.start_worker("eos-revoked", "first", flags, "info");
    INFO("first worker stderr:\n" << first->stderr_tail());
    // All its members in: a rebalance among them would commit the transaction before the twin comes.
    REQUIRE(wait_until(
        [&] {
            return group_stable(cluster.brokers(), "eos-revoked", cluster.input_topic(),
                                static_cast<size_t>(members_per_worker()), input_partitions);
        },
        60s, 200ms));
    InputProducer producer(cluster, corpus);
    producer.produce(0, corpus.messages.size());
    REQUIRE(producer.flush(30s));
    std::this_thread::sleep_for(3s);  // processed, the transaction still open

    auto second = cluster.start_worker("eos-revoked", "second",
                                       with(exactly_once, {"--transactional-id", "eos-revoked"}), "info");
    INFO("second worker stderr:\n" << second->stderr_tail());
    const std::optional<int> first_exit = first->wait_exit(60s);
    REQUIRE(first_exit);  // not stuck in a rebalance it left unfinished
    CHECK(*first_exit == 1);
    CHECK(first->stderr_text().find("fenced this producer") != std::string::npos);

    GroupOffsets offsets(cluster, "eos-revoked");
    REQUIRE(offsets.wait_all_committed(120s));
    CHECK(stop_worker(*second) == 0);
    check_exactly_once(cluster, corpus, "exactly-once with a twin fencing at a rebalance");
}

TEST_CASE("exactly-once: a broker restart mid-transaction loses and duplicates nothing") {
    if (skipped_on_mock_cluster("transactions")) return;
    const char* control = std::getenv("WARDEN_TEST_KAFKA_CONTROL");
    REQUIRE(control);
    TestCluster cluster;
    Corpus corpus = Corpus::generate(47, 15000);
    // The broker takes up to half a minute to come back here: the open transaction must outlive
    // that, or the restarted coordinator aborts it and fences the worker (which then stops).
    // A fixed transactional id: a replacement (below) fences its predecessor and aborts at once.
    const std::vector<std::string> flags = with(
        exactly_once, {"--producer-property", "transaction.timeout.ms=90000", "--transactional-id", "eos-restart"});
    auto worker = cluster.start_worker("eos-restart", "worker", flags, "info");
    INFO("worker stderr:\n" << worker->stderr_tail());
    REQUIRE(wait_for_assignment(*worker, 60s));

    InputProducer producer(cluster, corpus);
    PacedFeeder feeder(producer, 0, corpus.messages.size(), 200, 100ms);
    std::this_thread::sleep_for(3s);
    // The only node: every open transaction, coordinator and leader goes with it.
    REQUIRE(std::system((std::string(control) + " kill 1").c_str()) == 0);
    // Down for longer than a transaction's commit deadline (the 10 s revoke timeout) plus the
    // abort's own minimum: the worker must keep retrying the abort, not give up and exit.
    std::this_thread::sleep_for(20s);
    REQUIRE(std::system((std::string(control) + " start 1").c_str()) == 0);
    REQUIRE(feeder.finish(120s));

    GroupOffsets offsets(cluster, "eos-restart");
    // The worker recovers in place, except where librdkafka 2.0.2 fails the transactional
    // producer for good after the crash (a batch the killed node had persisted, sent again, meets
    // OUT_OF_ORDER_SEQUENCE_NUMBER; or the restarted coordinator refuses the abort with
    // INVALID_TXN_STATE). Then the worker must exit 1 naming the error (not crash or hang), and a
    // replacement resumes from the committed offsets: exactly-once either way.
    std::optional<int> exit_code;
    bool committed = false;
    wait_until(
        [&] {
            exit_code = worker->wait_exit(0s);
            committed = !exit_code && offsets.wait_all_committed(1s);
            return committed || exit_code.has_value();
        },
        180s, 100ms);
    if (exit_code) {
        MESSAGE("the worker failed for good after the restart (exit " << *exit_code << "); a replacement takes over");
        CHECK(*exit_code == 1);
        const std::string log = worker->stderr_text();
        CHECK((log.find("warden run: fatal producer error") != std::string::npos ||
               log.find("warden run: aborting the transaction failed for good") != std::string::npos));
        worker = cluster.start_worker("eos-restart", "replacement", flags, "info");
        committed = offsets.wait_all_committed(180s);
    }
    REQUIRE(committed);
    CHECK_FALSE(worker->wait_exit(0s).has_value());
    CHECK(stop_worker(*worker) == 0);
    check_exactly_once(cluster, corpus, "exactly-once across a broker restart");
}
