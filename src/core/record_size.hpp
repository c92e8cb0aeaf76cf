// Records sized as a broker counts them, and dead letters cut to fit.
#pragma once

#include <warden/core.hpp>

namespace warden {

// A consumed message counted like record_wire_size: key, value, headers and framing.
size_t input_wire_size(const MessageView& message);

// Cuts a dead letter that does not fit `limit` (record_wire_size) until it does: its first
// `original_headers` headers, key and value keep what room is left after the dlq_* headers that
// follow them, and headers `dlq_truncated: true` and `dlq_original_bytes` say it was cut. A record
// that fits is left alone. `limit` must be at least CoreLimits::min_message_bytes.
void fit_dead_letter(OutputRecord& record, size_t original_headers, size_t limit);

}  // namespace warden
