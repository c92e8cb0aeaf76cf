// What a crash may do to the outputs of `warden run` and `warden replay`.
#pragma once

namespace warden {

// At-least-once: redo the uncommitted tail, so some outputs appear twice. Exactly-once: outputs
// and input progress commit in one Kafka transaction, so a read_committed consumer sees each
// input's outputs once, at the cost of commit latency.
enum class ProcessingGuarantee { at_least_once, exactly_once };

}  // namespace warden
