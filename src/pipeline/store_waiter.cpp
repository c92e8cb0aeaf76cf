#include <warden/log.hpp>
#include <warden/pipeline.hpp>

#include <stdexcept>
#include <thread>

namespace warden {

std::runtime_error store_failed_error(const TeamCache& cache) {
    return std::runtime_error("the team store cannot answer, and waiting will not change that: " +
                              cache.last_error().value_or("no answer"));
}

StoreWaiter::StoreWaiter(TeamCache& cache, RetryPolicy::Options policy, Sleep sleep)
    : cache_(cache), retry_(policy), sleep_(std::move(sleep)) {
    if (!sleep_) {
        sleep_ = [](std::chrono::milliseconds how_long) {
            std::this_thread::sleep_for(how_long);
            return true;
        };
    }
}

bool StoreWaiter::until_done(const std::function<BatchProcessor::Status()>& attempt) {
    for (;;) {
        const BatchProcessor::Status status = attempt();
        if (status == BatchProcessor::Status::done) {
            if (retry_.failing()) log::info("team store available again; processing resumes");
            retry_.succeeded();
            return true;
        }
        const std::string cause = cache_.last_error().value_or("no answer");
        if (status == BatchProcessor::Status::store_failed) throw store_failed_error(cache_);
        const auto now = RetryPolicy::Clock::now();
        const std::optional<std::chrono::milliseconds> delay = retry_.failed(now);
        if (!delay) {
            const auto waited = std::chrono::duration_cast<std::chrono::seconds>(retry_.outage(now));
            throw std::runtime_error("the team store did not answer for " + std::to_string(waited.count()) +
                                     " s; giving up (--store-wait-timeout-ms sets how long to wait): " + cause);
        }
        if (retry_.report_due(now, cause)) {
            log::warn(
                "team store unavailable; processing waits and retries",
                {{"error", cause},
                 {"retry_in_ms", std::to_string(delay->count())},
                 {"waited_ms",
                  std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(retry_.outage(now)).count())}});
        }
        if (!sleep_(*delay)) return false;
    }
}

bool StoreWaiter::until_store_answers() {
    return until_done([this] {
        return cache_.check_store() ? BatchProcessor::Status::done : BatchProcessor::failure_status(cache_);
    });
}

}  // namespace warden
