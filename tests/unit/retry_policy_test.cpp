// The one backoff of every caller that waits for the team store: doubling, capped, deadline aware.
#include "support.hpp"

#include <warden/retry_policy.hpp>

using namespace warden;
using namespace std::chrono_literals;

namespace {
const RetryPolicy::Clock::time_point t0{std::chrono::hours(1)};
}

TEST_CASE("retry: the delay doubles from the first delay up to the cap, and a success starts over") {
    RetryPolicy retry;
    CHECK_FALSE(retry.failing());
    CHECK(retry.failed(t0) == 100ms);
    CHECK(retry.failed(t0) == 200ms);
    CHECK(retry.failed(t0) == 400ms);
    CHECK(retry.failed(t0) == 800ms);
    CHECK(retry.failed(t0) == 1600ms);
    CHECK(retry.failed(t0) == 3200ms);
    CHECK(retry.failed(t0) == 5000ms);
    CHECK(retry.failed(t0 + 1h) == 5000ms);  // without a deadline it never gives up
    CHECK(retry.failures() == 8);
    CHECK(retry.outage(t0 + 10s) == 10s);
    retry.succeeded();
    CHECK_FALSE(retry.failing());
    CHECK(retry.outage(t0 + 10s) == 0s);
    CHECK(retry.failed(t0 + 20s) == 100ms);
    CHECK(retry.outage(t0 + 21s) == 1s);  // the outage counts from its own first failure
}

TEST_CASE("retry: with a deadline the last attempt falls on it, then the caller gives up") {
    RetryPolicy retry(RetryPolicy::Options::giving_up_after(1000ms));
    CHECK(retry.failed(t0) == 100ms);
    CHECK(retry.failed(t0 + 100ms) == 200ms);
    CHECK(retry.failed(t0 + 300ms) == 400ms);
    CHECK(retry.failed(t0 + 700ms) == 300ms);  // cut to the deadline, not 800 ms past it
    CHECK_FALSE(retry.failed(t0 + 1000ms));
    CHECK_FALSE(retry.failed(t0 + 2000ms));
    retry.succeeded();  // a new outage gets the whole wait again
    CHECK(retry.failed(t0 + 3000ms) == 100ms);
    CHECK(retry.failed(t0 + 3900ms) == 100ms);
    CHECK_FALSE(retry.failed(t0 + 4000ms));
}

TEST_CASE("retry: a zero wait gives up at the first failure") {
    RetryPolicy retry(RetryPolicy::Options::giving_up_after(0ms));
    CHECK_FALSE(retry.failed(t0));
}

TEST_CASE("retry: custom doubling bounds") {
    RetryPolicy retry(RetryPolicy::Options::doubling(50ms, 120ms));
    CHECK(retry.failed(t0) == 50ms);
    CHECK(retry.failed(t0) == 100ms);
    CHECK(retry.failed(t0) == 120ms);
    CHECK(retry.failed(t0) == 120ms);
}

TEST_CASE("retry: an outage's cause is reported first, on every change, and once per interval") {
    RetryPolicy::Options options;
    options.report_interval = 30s;
    RetryPolicy retry(options);
    CHECK(retry.report_due(t0, "connection refused"));
    CHECK_FALSE(retry.report_due(t0 + 5s, "connection refused"));
    CHECK_FALSE(retry.report_due(t0 + 29s, "connection refused"));
    CHECK(retry.report_due(t0 + 30s, "connection refused"));
    CHECK(retry.report_due(t0 + 31s, "password authentication failed"));  // a new cause shows at once
    CHECK_FALSE(retry.report_due(t0 + 32s, "password authentication failed"));
    retry.succeeded();
    CHECK(retry.report_due(t0 + 33s, "password authentication failed"));  // a new outage reports again
}
