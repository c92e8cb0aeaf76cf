// The common kcat -J envelope read without a document: `process` spends most of its time reading
// its input otherwise. The DOM reader in envelope.cpp stays the reference, for every line this
// declines.
#pragma once

#include <warden/files.hpp>

#include <cstdint>
#include <string_view>

namespace warden {

// Reads `line` into `m` (reusing its memory) when it is an envelope of the common shape: one JSON
// object whose members are each named once, with a string or null payload, topic, key, integer
// partition and offset, and headers as an array of name and value (string or null) pairs; other
// members with plain values. Strings may hold escapes other than `\u`. Returns false, leaving `m`
// unspecified, for anything else, which the DOM reader decides: what this accepts it reads
// exactly as that reader does.
bool scan_common_envelope(std::string_view line, OwnedMessage& m);

// The reference reader of any line (parse_input_line's rules): a validating parser's document.
OwnedMessage read_input_document(std::string_view line, int64_t line_number);

}  // namespace warden
