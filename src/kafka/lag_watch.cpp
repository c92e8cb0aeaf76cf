#include "lag_watch.hpp"

#include "watermarks.hpp"

#include <algorithm>

namespace warden::kafka {
namespace {

constexpr std::chrono::milliseconds query_timeout{2000};

}  // namespace

LagWatch::LagWatch(rd_kafka_t* consumer, std::string topic, std::chrono::milliseconds interval, BrokerHealth& health,
                   Publish publish)
    : consumer_(consumer),
      topic_(std::move(topic)),
      interval_(interval),
      health_(health),
      publish_(std::move(publish)) {
    thread_ = std::thread([this] { watch(); });
}

LagWatch::~LagWatch() { stop(); }

void LagWatch::assigned(int32_t partition) {
    std::lock_guard lock(mutex_);
    bases_[partition] = unknown;
}

void LagWatch::set_base(int32_t partition, int64_t offset) {
    std::lock_guard lock(mutex_);
    bases_[partition] = offset;
}

void LagWatch::set_first_base(int32_t partition, int64_t offset) {
    std::lock_guard lock(mutex_);
    auto it = bases_.find(partition);
    if (it != bases_.end() && it->second == unknown) it->second = offset;
}

void LagWatch::forget(int32_t partition) {
    std::lock_guard lock(mutex_);
    bases_.erase(partition);
}

void LagWatch::stop() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void LagWatch::watch() {
    std::unique_lock lock(mutex_);
    while (!stop_) {
        std::map<int32_t, int64_t> bases(bases_.begin(), bases_.end());
        lock.unlock();
        fill_committed(bases);
        // Without partitions, partition 0 is asked all the same: the answer shows the brokers are there.
        std::vector<int32_t> partitions;
        partitions.reserve(bases.size() + 1);
        for (const auto& [partition, base] : bases) partitions.push_back(partition);
        if (partitions.empty()) partitions.push_back(0);
        std::map<int32_t, Watermarks> watermarks;
        if (rd_kafka_resp_err_t err = query_watermarks(consumer_, topic_, partitions, query_timeout, watermarks)) {
            // The last figures stay published: an outage is told by readiness, not by lag dropping to nothing.
            health_.request_failed(std::string("watermark query failed: ") + rd_kafka_err2str(err));
        } else {
            health_.answered();
            std::map<int32_t, int64_t> lag;
            for (const auto& [partition, base] : bases) {
                const Watermarks& marks = watermarks[partition];
                if (base != unknown) lag[partition] = std::max<int64_t>(0, marks.high - std::max(base, marks.low));
            }
            publish_(std::move(lag));
        }
        lock.lock();
        wake_.wait_for(lock, interval_, [this] { return stop_; });
    }
}

// Partitions not consumed from yet count from the group's committed offset (or, without one,
// from the low watermark: auto.offset.reset is earliest).
void LagWatch::fill_committed(std::map<int32_t, int64_t>& bases) {
    PartitionListPtr list = make_partition_list(static_cast<int>(bases.size()));
    for (const auto& [partition, base] : bases) {
        if (base == unknown) rd_kafka_topic_partition_list_add(list.get(), topic_.c_str(), partition);
    }
    if (list->cnt == 0 || rd_kafka_committed(consumer_, list.get(), 2000) != RD_KAFKA_RESP_ERR_NO_ERROR) return;
    for (int i = 0; i < list->cnt; ++i) {
        const rd_kafka_topic_partition_t& p = list->elems[i];
        if (p.err == RD_KAFKA_RESP_ERR_NO_ERROR) bases[p.partition] = std::max<int64_t>(p.offset, 0);
    }
}

}  // namespace warden::kafka
