// Consumer lag per partition from the brokers' high watermarks, measured on a thread of its own
// so the figures stay current while fetching is paused and the processing loop never waits on
// the round trips. Its queries double as the periodic evidence that the brokers answer.
#pragma once

#include "broker_health.hpp"

#include <warden/kafka_handles.hpp>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

namespace warden::kafka {

class LagWatch {
public:
    using Publish = std::function<void(std::map<int32_t, int64_t> lag)>;

    // `consumer` and `health` must outlive the watch; the consumer's offset queries are
    // thread-safe. Each round's outcome is recorded in `health`.
    LagWatch(rd_kafka_t* consumer, std::string topic, std::chrono::milliseconds interval, BrokerHealth& health,
             Publish publish);
    ~LagWatch();
    LagWatch(const LagWatch&) = delete;
    LagWatch& operator=(const LagWatch&) = delete;

    // A partition joins; its lag counts from the group's committed offset until set_base().
    void assigned(int32_t partition);
    // Offsets of `partition` below `offset` are done (processed and acknowledged, or about to be).
    void set_base(int32_t partition, int64_t offset);
    // Sets the base only while the partition has none yet (its first consumed offset).
    void set_first_base(int32_t partition, int64_t offset);
    void forget(int32_t partition);
    void stop();

private:
    static constexpr int64_t unknown = -1;
    void watch();
    void fill_committed(std::map<int32_t, int64_t>& bases);

    rd_kafka_t* consumer_;
    std::string topic_;
    std::chrono::milliseconds interval_;
    BrokerHealth& health_;
    Publish publish_;
    std::mutex mutex_;  // guards bases_ and stop_
    std::unordered_map<int32_t, int64_t> bases_;
    bool stop_ = false;
    std::condition_variable wake_;
    std::thread thread_;
};

}  // namespace warden::kafka
