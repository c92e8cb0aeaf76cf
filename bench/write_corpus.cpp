// write_corpus: writes a generated capture corpus as `warden process` reads it, for benchmarks of
// the file mode and of other implementations of the same rules.
//
//   write_corpus --dir DIR [--events N] [--seed S] [--teams T] [--partitions P]
//
// DIR/input.jsonl holds one kcat -J envelope per message (message i in partition i % P);
// DIR/teams.json the teams they belong to.
#include <warden/loadgen.hpp>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace {

struct Options {
    std::filesystem::path dir;
    unsigned long long events = 200'000;
    unsigned long long seed = 42;
    unsigned long long teams = 50;
    unsigned long long partitions = 8;
};

[[noreturn]] void usage(const char* why) {
    std::fprintf(stderr,
                 "write_corpus: %s\nusage: write_corpus --dir DIR [--events N] [--seed S] [--teams T] "
                 "[--partitions P]\n",
                 why);
    std::exit(2);
}

Options parse_args(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (i + 1 >= argc) usage("missing value");
        const char* value = argv[++i];
        if (arg == "--dir") {
            o.dir = value;
            continue;
        }
        char* end = nullptr;
        const unsigned long long v = std::strtoull(value, &end, 10);
        if (*end != '\0' || v == 0) usage("not a positive number");
        if (arg == "--events") o.events = v;
        else if (arg == "--seed") o.seed = v;
        else if (arg == "--teams") o.teams = v;
        else if (arg == "--partitions") o.partitions = v;
        else usage("unknown flag");
    }
    if (o.dir.empty()) usage("--dir is required");
    return o;
}

}  // namespace

int main(int argc, char** argv) {
    const Options opt = parse_args(argc, argv);
    std::filesystem::create_directories(opt.dir);
    std::ofstream(opt.dir / "teams.json") << warden::loadgen::teams_json(static_cast<int>(opt.teams));

    std::ofstream input(opt.dir / "input.jsonl", std::ios::binary);
    warden::loadgen::EventGenerator generator(opt.seed, static_cast<int>(opt.teams));
    rapidjson::StringBuffer line;
    for (unsigned long long i = 0; i < opt.events; ++i) {
        const warden::loadgen::GeneratedMessage m = generator.next(i);
        line.Clear();
        rapidjson::Writer<rapidjson::StringBuffer> w(line);
        auto string = [&](std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); };
        w.StartObject();
        w.Key("topic");
        w.String("events_plugin_ingestion");
        w.Key("partition");
        w.Uint64(i % opt.partitions);
        w.Key("offset");
        w.Uint64(i / opt.partitions);
        w.Key("headers");
        w.StartArray();
        for (const auto& [name, value] : m.headers) {
            string(name);
            string(value);
        }
        w.EndArray();
        w.Key("key");
        string(m.key);
        w.Key("payload");
        string(m.value);
        w.EndObject();
        input.write(line.GetString(), static_cast<std::streamsize>(line.GetSize()));
        input.put('\n');
    }
    input.close();
    if (!input) {
        std::fprintf(stderr, "write_corpus: cannot write %s\n", (opt.dir / "input.jsonl").c_str());
        return 1;
    }
    return 0;
}
