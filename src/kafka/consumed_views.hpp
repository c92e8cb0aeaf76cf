// The core's borrowed views of consumed librdkafka messages: keys, values and headers point into
// the messages, which must outlive the views.
#pragma once

#include <librdkafka/rdkafka.h>

#include <warden/core.hpp>

#include <span>
#include <string_view>
#include <utility>
#include <vector>

namespace warden::kafka {

class ConsumedViews {
public:
    void clear() {
        messages_.clear();
        headers_.clear();
        header_ranges_.clear();
        views_.clear();
    }

    void add(const rd_kafka_message_t& message) {
        const size_t first = headers_.size();
        rd_kafka_headers_t* headers = nullptr;
        if (rd_kafka_message_headers(&message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR && headers) {
            const char* name;
            const void* value;
            size_t size;
            for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
                 ++i) {
                HeaderView view{name, std::nullopt};
                if (value) view.value = std::string_view(static_cast<const char*>(value), size);
                headers_.push_back(view);
            }
        }
        header_ranges_.emplace_back(first, headers_.size() - first);
        messages_.push_back(&message);
    }

    // The views of every added message, in order; spans are taken once the headers stopped growing.
    std::span<const MessageView> views(std::string_view topic) {
        views_.clear();
        for (size_t i = 0; i < messages_.size(); ++i) {
            const rd_kafka_message_t& m = *messages_[i];
            MessageView view;
            view.topic = topic;
            view.partition = m.partition;
            view.offset = m.offset;
            if (m.key) view.key = std::string_view(static_cast<const char*>(m.key), m.key_len);
            if (m.payload) view.value = std::string_view(static_cast<const char*>(m.payload), m.len);
            view.headers =
                std::span<const HeaderView>(headers_).subspan(header_ranges_[i].first, header_ranges_[i].second);
            views_.push_back(view);
        }
        return views_;
    }

private:
    std::vector<const rd_kafka_message_t*> messages_;
    std::vector<HeaderView> headers_;
    std::vector<std::pair<size_t, size_t>> header_ranges_;
    std::vector<MessageView> views_;
};

}  // namespace warden::kafka
