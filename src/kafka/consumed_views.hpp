// The core's borrowed views of consumed librdkafka messages: keys, values and headers point into
// the messages, which must outlive the views.
#pragma once

#include <librdkafka/rdkafka.h>

#include <warden/core.hpp>

#include <algorithm>
#include <charconv>
#include <cstdint>
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
        redrive_headers_.clear();
        truncated_.clear();
        outputs_.clear();
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

    // The views of dead letters to send through again (`warden dlq redrive`), each as the input
    // it was: the dlq_* headers taken away (and `replayed`, which a replay's delivery added), the
    // topic, partition and offset of the original input (dlq_topic, dlq_partition, dlq_offset;
    // the dead letter's own where they are missing or malformed), and `dead_letter_attempts`
    // from dlq_attempts (1 without it: the first dead-lettering). truncated(i) says whether
    // message i lost part of its value or headers to the size limit when it was dead-lettered;
    // output(i) whether it is an enriched output the brokers refused (dlq_output_topic), not an
    // input.
    std::span<const MessageView> dead_letter_views(std::string_view topic) {
        views(topic);
        redrive_headers_.clear();
        truncated_.assign(views_.size(), false);
        outputs_.assign(views_.size(), false);
        std::vector<std::pair<size_t, size_t>> kept;
        for (size_t i = 0; i < views_.size(); ++i) {
            MessageView& view = views_[i];
            const size_t first = redrive_headers_.size();
            view.dead_letter_attempts = 1;
            for (const HeaderView& h : view.headers) {
                const std::string_view value = h.value.value_or(std::string_view());
                if (h.name == "dlq_topic" && !value.empty()) view.topic = value;
                if (h.name == "dlq_partition") parse_number(value, view.partition);
                if (h.name == "dlq_offset") parse_number(value, view.offset);
                if (h.name == "dlq_attempts") parse_attempts(value, view.dead_letter_attempts);
                if (h.name == "dlq_truncated") truncated_[i] = true;
                if (h.name == "dlq_output_topic") outputs_[i] = true;
                if (!h.name.starts_with("dlq_") && h.name != "replayed") redrive_headers_.push_back(h);
            }
            view.dead_letter_attempts =
                std::max<uint32_t>(view.dead_letter_attempts, 1);  // "0" is no way around the cap
            kept.emplace_back(first, redrive_headers_.size() - first);
        }
        for (size_t i = 0; i < views_.size(); ++i) {
            views_[i].headers = std::span<const HeaderView>(redrive_headers_).subspan(kept[i].first, kept[i].second);
        }
        return views_;
    }

    bool truncated(size_t i) const { return i < truncated_.size() && truncated_[i]; }
    bool output(size_t i) const { return i < outputs_.size() && outputs_[i]; }

private:
    // A count too large to hold is as good as used up; other text leaves `out` (1) alone.
    static void parse_attempts(std::string_view text, uint32_t& out) {
        uint64_t digits = 0;
        const bool all_digits =
            !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
        if (!all_digits) return;
        parse_number(text, digits);
        out = text.size() > 10 || digits > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(digits);
    }

    // Keeps `out` unless the whole of `text` is a number that fits it.
    template <typename Number>
    static void parse_number(std::string_view text, Number& out) {
        Number parsed{};
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), parsed);
        if (error == std::errc() && end == text.data() + text.size() && !text.empty()) out = parsed;
    }

    std::vector<const rd_kafka_message_t*> messages_;
    std::vector<HeaderView> headers_;
    std::vector<std::pair<size_t, size_t>> header_ranges_;
    std::vector<MessageView> views_;
    std::vector<HeaderView> redrive_headers_;
    std::vector<bool> truncated_;
    std::vector<bool> outputs_;
};

}  // namespace warden::kafka
