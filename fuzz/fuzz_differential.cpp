// libFuzzer target: the single-pass renderer against the DOM path. Each input goes through two
// BatchProcessors that differ only in CoreLimits::single_pass; any difference in outcomes or
// records (as tests/unit/single_pass_differential.hpp defines it) is printed and trapped.
//
// Input: as fuzz_input.hpp describes, and
//   bit 7:    the message twice in one batch (the second reuses what the first left behind)
#include "fuzz_input.hpp"
#include "single_pass_differential.hpp"
#include "test_teams.hpp"

#include <warden/pipeline.hpp>
#include <warden/teams.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace {

// Built once: the caches and processors are meant to be reused across messages.
struct Twins {
    explicit Twins(size_t limit) : pipelines(*store, warden::CoreLimits{limit, 64}, &quota) {}
    std::unique_ptr<warden::FileTeamStore> store = warden::FileTeamStore::from_json(test::teams_json, "fuzz");
    // The quota stage on both paths too (Acme's error tracking).
    warden::FixedQuotaSource quota{test::differential::acme_exceptions_quota()};
    test::differential::TwinPipelines pipelines;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static Twins* twins[2] = {new Twins(warden::CoreLimits{}.max_message_bytes),
                              new Twins(fuzz::small_limit)};  // never freed: outlive every input
    if (size == 0) return 0;
    const fuzz::FuzzMessage input(data, size);
    Twins& pair = *twins[input.small_limit_chosen() ? 1 : 0];
    const warden::MessageView& message = input.message;
    const warden::MessageView batch[2] = {message, message};

    const std::string difference = pair.pipelines.run({batch, (input.selector & 0x80) ? size_t{2} : size_t{1}});
    if (!difference.empty()) {
        std::fprintf(stderr, "single-pass and DOM paths differ (size limit %zu):\n%s", pair.pipelines.limit(),
                     difference.c_str());
        __builtin_trap();
    }
    return 0;
}
