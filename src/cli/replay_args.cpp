#include "replay_args.hpp"

#include "option_checks.hpp"
#include "usage.hpp"

#include <sstream>

namespace warden::cli {

std::vector<int32_t> parse_partition_list(const std::string& text) {
    std::vector<int32_t> out;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) out.push_back(static_cast<int32_t>(std::stol(item)));
    return out;
}

void check_checkpoint(const ReplayOptions& options) {
    // A checkpoint of another replay is a usage error; an unreadable one is not (it throws).
    if (std::string mismatch = replay_checkpoint_mismatch(options); !mismatch.empty()) throw UsageError(mismatch);
}

void add_range_options(CLI::App& cmd, std::string& from, std::string& to) {
    cmd.add_option("--from", from,
                   "Start: earliest, latest, an offset, epoch ms or an ISO 8601 time (2024-06-10T06:13:20Z)")
        ->capture_default_str()
        ->check(replay_position());
    cmd.add_option("--to", to, "End, exclusive, same forms as --from; fixed when the command starts")
        ->capture_default_str()
        ->check(replay_position());
}

void check_replay_range(const OffsetSpec& from, const OffsetSpec& to, const std::string& from_text,
                        const std::string& to_text) {
    using Kind = OffsetSpec::Kind;
    const std::string range = "--from " + from_text + " --to " + to_text;
    if (to.kind == Kind::earliest) {
        throw UsageError("the replay range " + range +
                         " is empty: --to is exclusive and nothing comes before "
                         "the earliest message; did you mean --from earliest?");
    }
    if (from.kind == Kind::latest && to.kind == Kind::latest) {
        throw UsageError("the replay range " + range + " is empty: both ends are the end of the partition");
    }
    const bool comparable = from.kind == to.kind && (from.kind == Kind::offset || from.kind == Kind::timestamp);
    if (!comparable) return;
    if (from.value > to.value) {
        throw UsageError("the replay range " + range + " is inverted: --from comes after --to; swap them");
    }
    if (from.value == to.value) {
        throw UsageError("the replay range " + range + " is empty: --to is exclusive, so it must come after --from");
    }
}

}  // namespace warden::cli
