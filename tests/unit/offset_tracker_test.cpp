// SPEC §7: commit only the contiguous acknowledged prefix of each partition.
#include <doctest/doctest.h>

#include <warden/offset_tracker.hpp>

#include <stdexcept>

using warden::OffsetTracker;

TEST_CASE("offsets: out-of-order acknowledgements commit only the contiguous prefix") {
    OffsetTracker t;
    t.track(0, 10, 1);
    t.track(0, 11, 2);  // analytics + heatmap
    t.track(0, 12, 1);
    CHECK_FALSE(t.take_commit(0));
    CHECK(t.acknowledge(0, 12));
    CHECK(t.acknowledge(0, 11));
    CHECK_FALSE(t.take_commit(0));  // 10 still pending, 11 half-acknowledged
    CHECK(t.acknowledge(0, 10));
    CHECK(t.take_commit(0) == 11);  // 11 needs its second output
    CHECK(t.acknowledge(0, 11));
    CHECK(t.take_commit(0) == 13);
    CHECK_FALSE(t.take_commit(0));  // taken once
    CHECK(t.in_flight() == 0);
}

TEST_CASE("offsets: drops commit at once; gaps in offsets are fine; partitions are independent") {
    OffsetTracker t;
    t.track(1, 5, 0);
    CHECK(t.take_commit(1) == 6);
    t.track(1, 9, 1);  // compaction or transaction markers leave gaps
    t.track(2, 0, 1);
    t.track(1, 20, 0);
    CHECK_FALSE(t.take_commit(1));
    CHECK(t.acknowledge(2, 0));
    CHECK(t.take_commit(2) == 1);
    CHECK_FALSE(t.take_commit(1));
    CHECK(t.acknowledge(1, 9));
    CHECK(t.take_commit(1) == 21);
}

TEST_CASE("offsets: a failed delivery (never acknowledged) holds its partition back") {
    OffsetTracker t;
    t.track(0, 1, 1);
    t.track(0, 2, 1);
    CHECK(t.acknowledge(0, 2));
    for (int i = 0; i < 3; ++i) CHECK_FALSE(t.take_commit(0));
    CHECK(t.in_flight(0) == 2);
}

TEST_CASE("offsets: misuse is refused, not miscounted") {
    OffsetTracker t;
    CHECK_FALSE(t.acknowledge(0, 1));  // unknown partition
    t.track(0, 1, 1);
    CHECK_FALSE(t.acknowledge(0, 0));  // unknown offset
    CHECK(t.acknowledge(0, 1));
    CHECK_FALSE(t.acknowledge(0, 1));  // extra acknowledgement
    CHECK_THROWS_AS(t.track(0, 1, 1), std::logic_error);
    t.track(3, 7, 1);
    t.forget(3);
    CHECK_FALSE(t.acknowledge(3, 7));  // late report after a revoke
    CHECK_FALSE(t.take_commit(3));
    CHECK(t.in_flight(3) == 0);
}
