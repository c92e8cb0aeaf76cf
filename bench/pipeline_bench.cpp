// pipeline_bench: runs a generated capture corpus through BatchProcessor on one thread and
// prints throughput and outcome figures (plain lines, then one JSON line), against a floor
// measured in the same run: parsing both JSON levels of each value and writing them back out,
// which any implementation of the rules must at least do. bench/count_instructions.sh runs it
// under callgrind for instruction counts.
//
//   pipeline_bench [--events N] [--seed S] [--passes P] [--batch B] [--teams T] [--single-pass 0|1]
//                  [--audit 0|1]
#include <warden/audit.hpp>
#include <warden/core.hpp>
#include <warden/files.hpp>
#include <warden/loadgen.hpp>
#include <warden/pipeline.hpp>
#include <warden/teams.hpp>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

using namespace warden;
using warden::loadgen::EventGenerator;
using warden::loadgen::GeneratedMessage;
using warden::loadgen::teams_json;

namespace {

struct Options {
    size_t events = 200'000;
    uint64_t seed = 42;
    int passes = 3;
    size_t batch = 1000;
    int teams = 50;
    bool single_pass = true;  // 0: every value through the DOM path, for the comparison
    bool audit = true;        // the audit trail observes every message, as in `run` and `process`
};

[[noreturn]] void usage(const char* why) {
    std::fprintf(stderr,
                 "pipeline_bench: %s\nusage: pipeline_bench [--events N] [--seed S] [--passes P] "
                 "[--batch B] [--teams T] [--single-pass 0|1] [--audit 0|1]\n",
                 why);
    std::exit(2);
}

Options parse_args(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (i + 1 >= argc) usage("missing value");
        char* end = nullptr;
        unsigned long long v = std::strtoull(argv[++i], &end, 10);
        if (*end != '\0') usage("not a number");
        if (arg == "--events") o.events = v;
        else if (arg == "--seed") o.seed = v;
        else if (arg == "--passes") o.passes = static_cast<int>(v);
        else if (arg == "--batch") o.batch = v;
        else if (arg == "--teams") o.teams = static_cast<int>(v);
        else if (arg == "--single-pass" && v <= 1) o.single_pass = v == 1;
        else if (arg == "--audit" && v <= 1) o.audit = v == 1;
        else usage("unknown flag");
    }
    if (o.events == 0 || o.passes < 1 || o.batch == 0 || o.teams < 1) usage("values must be positive");
    return o;
}

// CPU time of this thread: unlike wall time, not inflated when other processes share the cores.
double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct PassResult {
    double seconds = 0;
    double cpu_seconds = 0;
    OutcomeCounters counters;
    uint64_t output_records = 0;
    uint64_t output_bytes = 0;  // values + keys + headers
};

PassResult run_pass(BatchProcessor& processor, std::span<const MessageView> corpus, size_t batch_size) {
    PassResult r;
    BatchResult out;
    const auto start = std::chrono::steady_clock::now();
    const double cpu_start = thread_cpu_seconds();
    for (size_t at = 0; at < corpus.size(); at += batch_size) {
        out.clear();
        auto batch = corpus.subspan(at, std::min(batch_size, corpus.size() - at));
        if (processor.process(batch, out) != BatchProcessor::Status::done) {
            std::fprintf(stderr, "pipeline_bench: the file store reported unavailable\n");
            std::exit(1);
        }
        r.counters.add(out);
        r.output_records += out.records.size();
        for (const OutputRecord& rec : out.records) {
            r.output_bytes += rec.value ? rec.value->size() : 0;
            r.output_bytes += rec.key ? rec.key->size() : 0;
            for (size_t h = 0; h < rec.headers.size(); ++h) {
                HeaderView v = rec.headers[h];
                r.output_bytes += v.name.size() + (v.value ? v.value->size() : 0);
            }
        }
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    r.cpu_seconds = thread_cpu_seconds() - cpu_start;
    return r;
}

// The floor: each value parsed in place, its `data` string parsed in place, and the merged
// members written out as one object (outer fields after the client's, `data` left out). No
// checks, no rules, no headers, no key.
PassResult run_floor_pass(std::span<const MessageView> corpus) {
    // Documents and their parse stacks on one arena, emptied per value, as the core does.
    using Arena = rapidjson::MemoryPoolAllocator<>;
    using Document = rapidjson::GenericDocument<rapidjson::UTF8<>, Arena, Arena>;
    PassResult r;
    std::string buffer;
    Arena arena;
    rapidjson::StringBuffer out;
    const auto start = std::chrono::steady_clock::now();
    const double cpu_start = thread_cpu_seconds();
    for (const MessageView& message : corpus) {
        arena.Clear();
        Document outer(&arena, 1024, &arena);
        Document data(&arena, 1024, &arena);
        buffer.assign(message.value.value_or(std::string_view()));
        outer.ParseInsitu(buffer.data());
        if (outer.HasParseError() || !outer.IsObject()) continue;
        out.Clear();
        rapidjson::Writer<rapidjson::StringBuffer> writer(out);
        writer.StartObject();
        const auto data_member = outer.FindMember("data");
        if (data_member != outer.MemberEnd() && data_member->value.IsString()) {
            data.ParseInsitu(const_cast<char*>(data_member->value.GetString()));
            if (!data.HasParseError() && data.IsObject()) {
                for (const auto& m : data.GetObject()) {
                    m.name.Accept(writer);
                    m.value.Accept(writer);
                }
            }
        }
        for (const auto& m : outer.GetObject()) {
            if (&m == &*data_member) continue;
            m.name.Accept(writer);
            m.value.Accept(writer);
        }
        writer.EndObject();
        ++r.output_records;
        r.output_bytes += out.GetSize();
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    r.cpu_seconds = thread_cpu_seconds() - cpu_start;
    return r;
}

}  // namespace

int main(int argc, char** argv) {
    const Options opt = parse_args(argc, argv);

    EventGenerator gen(opt.seed, opt.teams);
    std::vector<GeneratedMessage> messages;
    messages.reserve(opt.events);
    uint64_t input_bytes = 0;
    for (size_t i = 0; i < opt.events; ++i) {
        messages.push_back(gen.next(i));
        input_bytes += messages.back().value.size();
    }
    // Views are built once the strings no longer move.
    std::vector<HeaderView> header_views;
    header_views.reserve(opt.events * 6);
    std::vector<MessageView> corpus(opt.events);
    for (size_t i = 0; i < opt.events; ++i) {
        const GeneratedMessage& m = messages[i];
        const size_t first = header_views.size();
        for (const auto& [name, value] : m.headers) header_views.push_back({name, std::string_view(value)});
        MessageView& v = corpus[i];
        v.topic = default_input_topic;
        v.partition = static_cast<int32_t>(i % 8);
        v.offset = static_cast<int64_t>(i);
        v.key = m.key;
        v.headers = std::span<const HeaderView>(header_views.data() + first, m.headers.size());
        v.value = m.value;
    }

    auto store = FileTeamStore::from_json(teams_json(opt.teams), "bench");
    TeamCache cache(*store);
    CoreLimits limits;
    limits.single_pass = opt.single_pass;
    BatchProcessor processor(cache, {}, limits, [] { return int64_t{1'795'168'800'000}; });
    AuditTrail audit(FingerprintKey::random());
    if (opt.audit) processor.set_audit(&audit);

    // Core and floor passes alternate, so both meet the same machine load.
    const PassResult warm = run_pass(processor, corpus, opt.batch);
    run_floor_pass(corpus);
    double total_seconds = 0, best_seconds = 1e300, total_cpu_seconds = 0, floor_cpu_seconds = 0;
    PassResult last;
    for (int p = 0; p < opt.passes; ++p) {
        last = run_pass(processor, corpus, opt.batch);
        total_seconds += last.seconds;
        total_cpu_seconds += last.cpu_seconds;
        best_seconds = std::min(best_seconds, last.seconds);
        floor_cpu_seconds += run_floor_pass(corpus).cpu_seconds;
    }

    const double n = static_cast<double>(opt.events);
    const double mean = total_seconds / opt.passes;
    const double events_per_s = n / mean;
    const double best_events_per_s = n / best_seconds;
    const double cpu_events_per_s = n * opt.passes / total_cpu_seconds;
    const double ns_per_event = mean * 1e9 / n;
    const double cpu_ns_per_event = total_cpu_seconds * 1e9 / (n * opt.passes);
    const double floor_cpu_ns_per_event = floor_cpu_seconds * 1e9 / (n * opt.passes);
    const double floor_ratio = cpu_ns_per_event / floor_cpu_ns_per_event;
    const double input_mb_per_s = static_cast<double>(input_bytes) / mean / 1e6;
    const double avg_input = static_cast<double>(input_bytes) / n;
    const double avg_output_record =
        last.output_records ? static_cast<double>(last.output_bytes) / static_cast<double>(last.output_records) : 0;
    const double output_per_event = static_cast<double>(last.output_bytes) / n;
    const std::string summary = last.counters.summary_json(processor.topics());

    std::printf("events            %zu (seed %" PRIu64 ", %d teams, batch %zu)\n", opt.events, opt.seed, opt.teams,
                opt.batch);
    std::printf("input             %.1f MB, %.0f bytes/event\n", static_cast<double>(input_bytes) / 1e6, avg_input);
    std::printf("warm-up           %.3f s\n", warm.seconds);
    std::printf("passes            %d, mean %.3f s, best %.3f s\n", opt.passes, mean, best_seconds);
    std::printf("throughput        %.0f events/s (best %.0f), %.0f events per CPU second\n", events_per_s,
                best_events_per_s, cpu_events_per_s);
    std::printf("latency           %.0f ns/event\n", ns_per_event);
    std::printf("CPU per event     %.0f ns; floor (parse both levels and copy) %.0f ns; ratio %.2f\n", cpu_ns_per_event,
                floor_cpu_ns_per_event, floor_ratio);
    std::printf("input rate        %.1f MB/s\n", input_mb_per_s);
    std::printf("output            %" PRIu64 " records, %.0f bytes/record, %.0f bytes/input event\n",
                last.output_records, avg_output_record, output_per_event);
    std::printf("outcomes          %s\n", summary.c_str());
    std::printf("{\"events\":%zu,\"seed\":%" PRIu64
                ",\"passes\":%d,\"events_per_s\":%.0f,\"best_events_per_s\":%.0f,\"cpu_events_per_s\":%.0f,"
                "\"ns_per_event\":%.1f,\"cpu_ns_per_event\":%.1f,\"floor_cpu_ns_per_event\":%.1f,"
                "\"floor_ratio\":%.2f,\"input_mb_per_s\":%.1f,\"input_bytes_per_event\":%.1f,"
                "\"output_records\":%" PRIu64
                ",\"output_bytes_per_record\":%.1f,\"output_bytes_per_event\":%.1f,"
                "\"outcomes\":%s}\n",
                opt.events, opt.seed, opt.passes, events_per_s, best_events_per_s, cpu_events_per_s, ns_per_event,
                cpu_ns_per_event, floor_cpu_ns_per_event, floor_ratio, input_mb_per_s, avg_input, last.output_records,
                avg_output_record, output_per_event, summary.c_str());
    return 0;
}
