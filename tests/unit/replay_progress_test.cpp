// The replay's progress display stays bounded however many partitions there are.
#include "cli/replay_progress.hpp"

#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <algorithm>

using namespace warden;

namespace {

// 64 partitions of 1000 messages; partition p has read p * 10 of them, and partitions 60-63 are done.
ReplayProgress wide_replay() {
    ReplayProgress p;
    for (int32_t id = 0; id < 64; ++id) {
        PartitionProgress part;
        part.partition = id;
        part.start = 5000;
        part.end = 6000;
        part.consumed = id >= 60 ? part.end : part.start + id * 10;
        part.acked = part.consumed;
        part.done = id >= 60;
        p.partitions.push_back(part);
    }
    p.outcomes.consumed = 20000;
    p.elapsed = std::chrono::seconds(4);
    return p;
}

size_t count_lines(const std::string& text) { return static_cast<size_t>(std::count(text.begin(), text.end(), '\n')); }

}  // namespace

TEST_CASE("replay progress: the slowest partitions are those with the most left, at most five") {
    const std::vector<PartitionProgress> slowest = cli::slowest_partitions(wide_replay());
    REQUIRE(slowest.size() == 5);
    for (size_t i = 0; i < slowest.size(); ++i) CHECK(slowest[i].partition == static_cast<int32_t>(i));
    ReplayProgress almost = wide_replay();
    for (PartitionProgress& part : almost.partitions) {
        if (part.partition > 1) part.done = true;
    }
    CHECK(cli::slowest_partitions(almost).size() == 2);  // finished partitions are never listed
}

TEST_CASE("replay progress: one JSON line with the totals and a bounded list, at 64 partitions") {
    const std::string line = cli::progress_json(wide_replay());
    CHECK(count_lines(line) == 1);
    CHECK(line.size() < 1000);
    rapidjson::Document doc;
    doc.Parse(line.c_str());
    REQUIRE_FALSE(doc.HasParseError());
    const auto& p = doc["progress"];
    int64_t done = 0;
    for (int id = 0; id < 64; ++id) done += id >= 60 ? 1000 : id * 10;
    CHECK(p["done"].GetInt64() == done);
    CHECK(p["total"].GetInt64() == 64000);
    CHECK(p["remaining"].GetInt64() == 64000 - done);
    CHECK(p["partitions_total"].GetInt() == 64);
    CHECK(p["partitions_done"].GetInt() == 4);
    CHECK(p["elapsed_s"].GetDouble() == doctest::Approx(4.0));
    CHECK(p["rate"].GetDouble() == doctest::Approx(5000.0));
    REQUIRE(p["slowest"].Size() == 5);
    CHECK(p["slowest"][0]["partition"].GetInt() == 0);
    CHECK(p["slowest"][0]["remaining"].GetInt64() == 1000);
    CHECK(p["slowest"][4]["done"].GetInt64() == 40);
}

TEST_CASE("replay progress: the terminal drawing is a total, a count and five bars, redrawn in place") {
    cli::TerminalProgress terminal;
    const std::string first = terminal.render(wide_replay());
    CHECK(count_lines(first) == 7);
    CHECK(first.find("64 partitions, 4 done; slowest:") != std::string::npos);
    CHECK(first.find("p0 ") != std::string::npos);
    CHECK(first.find("p5 ") == std::string::npos);
    const std::string second = terminal.render(wide_replay());
    CHECK(second.starts_with("\x1b[7F"));  // back over the previous drawing
    CHECK(count_lines(second) == 7);
}
