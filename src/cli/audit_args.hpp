// The audit trail's settings, shared by `run` and `process`.
#pragma once

#include <warden/audit.hpp>

#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace warden::cli {

struct AuditArgs {
    std::string topic = std::string(default_audit_topic);
    bool off = false;
    std::string key_file;  // the fingerprint key; none: a random one per process
    int64_t interval_ms = 10'000;
};

// --audit-topic, --no-audit, --audit-key-file and (with `interval`, for `run`) --audit-interval-ms.
void add_audit_options(CLI::App& command, AuditArgs& args, bool interval);

// The audit topic, empty when the trail is off. Throws UsageError when it names the input topic
// or another output.
std::string audit_topic(const AuditArgs& args, const std::string& input_topic, const TopicNames& outputs);

// The fingerprint key the flags give; a random one (said in the log) without --audit-key-file.
FingerprintKey audit_key(const AuditArgs& args);

}  // namespace warden::cli
