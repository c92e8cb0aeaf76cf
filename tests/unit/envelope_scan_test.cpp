// The fast envelope reader against the reference (a validating parser's document): on every line
// it accepts it must read exactly what the reference reads, and it must accept the common shape.
// The JSON string writer is held to RapidJSON's writer the same way.
#include "files/envelope_scan.hpp"

#include <warden/json_scan.hpp>
#include <warden/loadgen.hpp>

#include <doctest/doctest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace warden;

namespace {

// Everything a reader decides about a line, as text, so a difference prints readably.
void describe_optional(std::ostream& out, const std::optional<std::string_view>& text) {
    if (text) {
        out << '[' << *text << ']';
    } else {
        out << "null";
    }
}

std::string describe(const OwnedMessage& m) {
    std::ostringstream out;
    out << "topic=" << m.topic << " partition=" << m.partition << " offset=" << m.offset << " key=";
    describe_optional(out, m.key);
    out << " headers=";
    for (size_t i = 0; i < m.headers.size(); ++i) {
        const HeaderView h = m.headers[i];
        out << '[' << h.name << "]=";
        describe_optional(out, h.value);
        out << ',';
    }
    out << " value=";
    describe_optional(out, m.value);
    return out.str();
}

struct Tally {
    size_t accepted = 0;
    size_t declined = 0;
};

// Checks one line; `reused` carries whatever an earlier line left in it, as in `process`.
void check_line(const std::string& line, int64_t number, OwnedMessage& reused, Tally& tally) {
    CAPTURE(line);
    const OwnedMessage reference = read_input_document(line, number);
    OwnedMessage fresh;
    if (scan_common_envelope(line, fresh)) {
        ++tally.accepted;
        CHECK(describe(fresh) == describe(reference));
    } else {
        ++tally.declined;
    }
    read_input_line(line, number, reused);
    CHECK(describe(reused) == describe(reference));
}

std::vector<std::string> generated_lines(uint64_t seed, size_t count) {
    loadgen::EventGenerator generator(seed, 50);
    std::vector<std::string> lines;
    for (size_t i = 0; i < count; ++i) {
        const loadgen::GeneratedMessage g = generator.next(i);
        OutputRecord record;
        record.key = g.key;
        record.value = g.value;
        for (const auto& [name, value] : g.headers) record.headers.add(name, value);
        lines.push_back(envelope_json("events_plugin_ingestion", record));
    }
    return lines;
}

std::string rapidjson_string(std::string_view text) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    writer.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
    return {buffer.GetString(), buffer.GetSize()};
}

}  // namespace

TEST_CASE("envelope reader: generated and sample lines are all read, exactly as the reference reads them") {
    OwnedMessage reused;
    Tally tally;
    int64_t number = 0;
    for (uint64_t seed : {1, 2, 3}) {
        for (const std::string& line : generated_lines(seed, 2000)) check_line(line, number++, reused, tally);
    }
    std::ifstream samples(std::string(WARDEN_SOURCE_ROOT) + "/samples/events.jsonl");
    size_t sample_lines = 0;
    for (std::string line; std::getline(samples, line); ++sample_lines) check_line(line, number++, reused, tally);
    REQUIRE(sample_lines > 0);
    CHECK(tally.declined == 0);  // the common shape never needs the document
}

TEST_CASE("envelope reader: unusual lines are declined or read as the reference reads them") {
    const std::vector<std::string> lines = {
        R"({"payload":"p"})",
        R"(  {"payload" : "p" , "key" : null }  )",
        "\t{\"payload\":\"p\"}\r\n ",
        R"({"topic":null,"payload":"p"})",
        R"({"topic":"t","partition":2147483647,"offset":9223372036854775807,"payload":null})",
        R"({"partition":2147483648,"payload":"p"})",
        R"({"partition":-1,"offset":-5,"payload":"p"})",
        R"({"partition":1.0,"payload":"p"})",
        R"({"partition":1e2,"payload":"p"})",
        R"({"partition":-0,"payload":"p"})",
        R"({"partition":01,"payload":"p"})",
        R"({"partition":"1","payload":"p"})",
        R"({"partition":null,"payload":"p"})",
        R"({"offset":99999999999999999999,"payload":"p"})",
        R"({"key":5,"payload":"p"})",
        R"({"key":"k","key":"k2","payload":"p"})",
        R"({"payload":"a","payload":"b"})",
        R"({"topic":"a","topic":null,"payload":"p"})",
        R"({"headers":["a","1"],"headers":null,"payload":"p"})",
        R"({"payload":1})",
        R"({"payload":{"a":1}})",
        R"({"headers":["a","1","b"],"payload":"p"})",
        R"({"headers":["a",1],"payload":"p"})",
        R"({"headers":[null,"1"],"payload":"p"})",
        R"({"headers":{},"payload":"p"})",
        R"({"headers":[],"payload":"p"})",
        R"({"headers":null,"payload":"p"})",
        R"({"headers":[ "a" , null , "b" , "" ],"payload":"p"})",
        R"({"headers":["a\"b","c\\d\/e\n\t\r\b\f"],"payload":"p"})",
        R"({"headers":["a","\u0041"],"payload":"p"})",
        R"({"headers":["a","\ud800"],"key":"k\udc00","payload":"{\"a\":\"\ud800\"}"})",
        R"({"payload":"\u0000"})",
        R"({"payload":"a\/b"})",
        R"({"payload":"tab\there","tstype":"create","ts":1795168801000,"broker":1})",
        R"({"extra":{"deep":[1,2,{"x":[true,false,null]}]},"payload":"p"})",
        R"({"extra":1.5,"payload":"p"})",
        R"({"extra":1E5,"payload":"p"})",
        R"({"extra":"\u00e9","payload":"p"})",
        R"({"extra":tru,"payload":"p"})",
        R"({"payload":"p"}{"payload":"q"})",
        R"({"payload":"p"} x)",
        R"({"payload":"p",})",
        R"({,"payload":"p"})",
        R"({"payload":"p")",
        R"({"payload":"p)",
        R"({"payload":"p\)",
        R"({"payload")",
        R"({"payload":})",
        R"({})",
        R"([])",
        R"("payload")",
        R"(null)",
        "",
        "   ",
        "{\"payload\":\"raw\ncontrol\"}",
        std::string("{\"payload\":\"nul\0byte\"}", 22),
        std::string("{\"payload\":\"p\"}\0", 16),
        "{\"payload\":\"\xFF\xFE invalid utf-8\",\"key\":\"\xC3\"}",
        "\xEF\xBB\xBF{\"payload\":\"bom\"}",
        R"({"uuid":"x","data":"{}"})",
        R"({"topic":"t\"q","payload":"p"})",
        R"({"extra":)" + std::string(400, '9') + R"(.0,"payload":"p"})",  // past the largest double
        R"({"extra":)" + std::string(19, '9') + R"(,"payload":"p"})",
    };
    OwnedMessage reused;
    Tally tally;
    int64_t number = 0;
    for (const std::string& line : lines) check_line(line, number++, reused, tally);
    CHECK(tally.accepted > 10);
    CHECK(tally.declined > 10);
}

TEST_CASE("envelope reader: mutated lines are declined or read as the reference reads them") {
    std::mt19937_64 rng(20261203);
    const std::vector<std::string> base = generated_lines(7, 300);
    const std::string specials = "\"\\{}[],:0123456789-.eEtfnul \t\r\n\x01\x7F\xC3\xFF/";
    OwnedMessage reused;
    Tally tally;
    int64_t number = 0;
    for (int round = 0; round < 20; ++round) {
        for (const std::string& original : base) {
            std::string line = original;
            const int edits = 1 + static_cast<int>(rng() % 3);
            for (int e = 0; e < edits && !line.empty(); ++e) {
                const size_t at = rng() % line.size();
                switch (rng() % 4) {
                    case 0: line[at] = specials[rng() % specials.size()]; break;
                    case 1: line.erase(at, 1 + rng() % 4); break;
                    case 2: line.insert(at, 1, specials[rng() % specials.size()]); break;
                    default: line.resize(at); break;
                }
            }
            check_line(line, number++, reused, tally);
        }
    }
    MESSAGE("mutated lines: " << tally.accepted << " read fast, " << tally.declined << " declined");
    CHECK(tally.accepted > 0);
    CHECK(tally.declined > 0);
}

TEST_CASE("JSON strings are written exactly as RapidJSON's writer writes them") {
    std::string every_byte;
    for (int c = 0; c < 256; ++c) every_byte.push_back(static_cast<char>(c));
    std::mt19937_64 rng(42);
    std::vector<std::string> texts = {"", "a", "\"", "\\", "\x1F", every_byte, every_byte + every_byte};
    for (int i = 0; i < 2000; ++i) {
        std::string text(rng() % 70, ' ');
        for (char& c : text) c = (rng() % 4 == 0) ? static_cast<char>(rng() % 0x22) : static_cast<char>(rng() % 256);
        texts.push_back(text);
    }
    for (const std::string& text : texts) {
        CAPTURE(text);
        std::string out = "prefix";
        json_scan::append_string(out, text);
        CHECK(out == "prefix" + rapidjson_string(text));

        // Read back to the same bytes, unless written with a \u escape, which the reader declines.
        const bool long_escape = std::any_of(text.begin(), text.end(), [](char c) {
            return static_cast<unsigned char>(c) < 0x20 &&
                   std::string_view("\b\f\n\r\t").find(c) == std::string_view::npos;
        });
        const char* at = out.data() + 6;
        std::string back, scratch;
        const bool read = json_scan::read_string(at, out.data() + out.size(), back, scratch);
        CHECK(read == !long_escape);
        if (read) {
            CHECK(at == out.data() + out.size());
            CHECK(back == text);
        }
    }
}
