#include "audit_args.hpp"

#include "option_checks.hpp"
#include "secret_file.hpp"
#include "usage.hpp"

namespace warden::cli {

void add_audit_options(CLI::App& command, AuditArgs& args, bool interval) {
    CLI::Option* topic =
        command
            .add_option("--audit-topic", args.topic,
                        "Topic of the security audit trail: JSON records of forged $verified, backup-secret use, "
                        "unknown secret or personal keys, shared tokens, redacted secrets and quota drops, per team "
                        "and kind")
            ->envname("WARDEN_AUDIT_TOPIC")
            ->capture_default_str()
            ->check(topic_name());
    command.add_flag("--no-audit", args.off, "Write no audit trail")->envname("WARDEN_NO_AUDIT")->excludes(topic);
    command
        .add_option("--audit-key-file", args.key_file,
                    "File holding the key of the audit records' token fingerprints (HMAC-SHA256, at least 16 bytes; "
                    "shared by a fleet, fingerprints compare across workers; default: a random key per process)")
        ->envname("WARDEN_AUDIT_KEY_FILE");
    if (interval) {
        command
            .add_option("--audit-interval-ms", args.interval_ms,
                        "How long an audit record collects occurrences of one kind for one team (the offsets of "
                        "what it counts are committed once it is written)")
            ->envname("WARDEN_AUDIT_INTERVAL_MS")
            ->capture_default_str()
            ->check(whole_number<int64_t>(1));
    }
}

std::string audit_topic(const AuditArgs& args, const std::string& input_topic, const TopicNames& outputs) {
    if (args.off) return {};
    if (args.topic == input_topic) {
        throw UsageError("--audit-topic names the same topic as the input: give the audit trail a topic of its own");
    }
    const std::pair<const std::string*, const char*> roles[] = {{&outputs.analytics, "--analytics-topic"},
                                                                {&outputs.error_tracking, "--error-tracking-topic"},
                                                                {&outputs.heatmaps, "--heatmaps-topic"},
                                                                {&outputs.dead_letter, "--dlq-topic"}};
    for (const auto& [topic, flag] : roles) {
        if (*topic == args.topic) {
            throw UsageError(std::string("--audit-topic names the same topic as ") + flag +
                             ": readers of those records would misread audit records; give the audit trail a topic "
                             "of its own");
        }
    }
    return args.topic;
}

FingerprintKey audit_key(const AuditArgs& args) {
    if (args.key_file.empty()) return FingerprintKey::random();
    const std::string secret =
        read_secret_file("--audit-key-file", args.key_file, "--audit-key-file takes a file holding the key",
                         SecretFilePart::content_without_final_line_breaks);
    try {
        return FingerprintKey::from_secret(secret, "--audit-key-file");
    } catch (const std::invalid_argument& e) {
        throw UsageError(e.what());
    }
}

}  // namespace warden::cli
