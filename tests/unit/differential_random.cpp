// Seeded random capture values for the differential tests (differential_corpus.hpp).
#include "differential_corpus.hpp"

#include <algorithm>
#include <iterator>
#include <random>

namespace test::corpus {
namespace {

// Capture-shaped values from a seed, half of them of the common shape (the capture fields, a
// `data` string, plain names and strings, numbers a writer prints as they are) with rare
// departures from it, half hostile: fields in any order, present or not, of the expected type or
// not, duplicated, nested, with the reserved names, their disguises, escapes, raw bytes and the
// token placeholders anywhere.
class RandomCapture {
public:
    explicit RandomCapture(uint64_t seed) : rng_(seed) {}

    bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }
    size_t below(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
    template <typename T, size_t N>
    const T& one_of(const T (&items)[N]) {
        return items[below(N)];
    }

    Case next() {
        Case c;
        const bool common = chance(0.5);
        // Some common-shape values stray once or twice: the edges of the single-pass renderer's shape.
        wild_ = !common ? 1.0 : chance(0.7) ? 0.0 : 0.02;
        c.label =
            std::string(common ? "random common-shape value " : "random hostile value ") + std::to_string(++count_);
        c.value = outer();
        static const std::string garbage[] = {" x", "{}", "]", std::string("\0x", 2)};
        if (chance(0.02 * wild_)) *c.value += one_of(garbage);
        if (chance(0.01 * wild_)) c.value->resize(below(c.value->size() + 1));
        if (chance(0.1)) c.headers.push_back({"x-@OTHER@", "Bearer @BACKUP@"});
        return c;
    }

private:
    // Whether to leave the common shape here.
    bool wild() { return chance(wild_); }

    std::string ws() {
        if (!chance(0.1)) return "";
        return one_of({" ", "\n", "\t  ", " \r\n "});
    }

    std::string string_body() {
        static const char* const plain[] = {"abc",
                                            "user-42",
                                            "$pageview",
                                            "https://example.com/a?b=c",
                                            "x y",
                                            "\xc3\xa9",
                                            "\xf0\x9f\x98\x80",
                                            "\\\"",
                                            "\\\\",
                                            "\\n",
                                            "\\t",
                                            "1.50",
                                            ""};
        static const char* const pieces[] = {"abc",
                                             "user-42",
                                             "$pageview",
                                             "https://example.com/a?b=c",
                                             "\xc3\xa9",
                                             "\\u00e9",
                                             "\\ud83d\\ude00",
                                             "\xf0\x9f\x98\x80",
                                             "\\ud800",
                                             "\\udc00",
                                             "\\u0000",
                                             "\\n",
                                             "\\t",
                                             "\\\"",
                                             "\\\\",
                                             "\\/",
                                             "/",
                                             "\xff",
                                             "\xc0\xaf",
                                             "\xed\xa0\x80",
                                             "@SECRET@",
                                             "@BACKUP@",
                                             "@OTHER@",
                                             "@TOKEN@",
                                             "phx_personalkey",
                                             "phs_unknown",
                                             "phs\\u005fsecret_acme",
                                             "$verified",
                                             " ",
                                             "1.50",
                                             "$exception",
                                             "\\b\\f\\r"};
        std::string out;
        for (size_t n = below(4); n > 0; --n) out += wild() ? one_of(pieces) : one_of(plain);
        return out;
    }

    std::string string() { return cat("\"", string_body(), "\""); }

    std::string number() {
        static const char* const plain[] = {"0",     "42", "-7", "1.5", "0.25", "5.0", "3.14159", "1234567890123",
                                            "-12.75"};
        static const char* const forms[] = {"0",
                                            "-0",
                                            "42",
                                            "-7",
                                            "1.50",
                                            "1e5",
                                            "1E5",
                                            "-1.5e-7",
                                            "0.1",
                                            "3.0",
                                            "2.5e+3",
                                            "1e-400",
                                            "123456789012345678901234567890",
                                            "18446744073709551615",
                                            "-9223372036854775809",
                                            "0.1000000000000000055511151231257827",
                                            "1E400"};
        if (!wild()) return one_of(plain);
        // 1E400 cannot be parsed: rare, or most values would be dead letters.
        const size_t n = std::size(forms);
        return forms[chance(0.002) ? n - 1 : below(n - 1)];
    }

    std::string name() {
        static const char* const plain[] = {"a", "b", "c", "plan", "$lib", "$browser", "k-\xc3\xa9", "x y"};
        static const char* const names[] = {"uuid",
                                            "event",
                                            "distinct_id",
                                            "properties",
                                            "$set",
                                            "$set_once",
                                            "ip",
                                            "timestamp",
                                            "now",
                                            "sent_at",
                                            "token",
                                            "team_id",
                                            "project_id",
                                            "$verified",
                                            "data",
                                            "$current_url",
                                            "$unset",
                                            "$ip",
                                            "$sent_at",
                                            "$heatmap_data",
                                            "$viewport_width",
                                            "$viewport_height",
                                            "$session_id",
                                            "$prev_pageview_pathname",
                                            "$prev_pageview_max_scroll",
                                            "$lib",
                                            "$verified\\u0000x",
                                            "$verified\\u0000",
                                            "$set\\u0000",
                                            "properties\\u0000",
                                            "$unset\\u0000x",
                                            "$ip\\u0000",
                                            "data\\u0000",
                                            "\\u0024verified",
                                            "\\u0064ata",
                                            "prop\\u0065rties",
                                            "$s\\u0065t",
                                            "a",
                                            "b",
                                            "k",
                                            "k\\u00e9",
                                            "",
                                            "@SECRET@",
                                            "n\xff",
                                            "x\\\"y"};
        if (!wild() || chance(0.5)) return cat("\"", one_of(plain), "\"");
        return cat("\"", one_of(names), "\"");
    }

    std::string scalar() {
        switch (below(6)) {
            case 0: return number();
            case 1: return one_of({"true", "false", "null"});
            default: return string();
        }
    }

    std::string any(size_t depth) {
        if (depth > 6 || chance(0.6)) return scalar();
        if (chance(0.005)) return nested(60 + below(8), chance(0.5));  // around the depth limit
        if (chance(0.5)) return array(depth + 1);
        std::vector<std::string> members;
        for (size_t n = below(5); n > 0; --n) members.push_back(member(name(), any(depth + 1)));
        return object(members);
    }

    std::string array(size_t depth) {
        std::string out = cat("[", ws());
        for (size_t n = below(5), i = 0; i < n; ++i) out += cat(i ? "," : "", ws(), any(depth));
        return cat(out, ws(), "]");
    }

    std::string object(std::vector<std::string> members) {
        std::shuffle(members.begin(), members.end(), rng_);
        if (!members.empty() && chance(0.1 * wild_)) members.push_back(members[below(members.size())]);  // a duplicate
        std::string out = cat("{", ws());
        for (size_t i = 0; i < members.size(); ++i) out += cat(i ? "," : "", ws(), members[i]);
        return cat(out, ws(), "}");
    }

    std::string member(std::string_view quoted_name, const std::string& value) {
        return cat(quoted_name, ws(), ":", ws(), value);
    }

    std::string person_object() {
        std::vector<std::string> members;
        for (size_t n = below(4); n > 0; --n) {
            const bool special = chance(0.3);
            members.push_back(member(
                special ? (wild() ? one_of({"\"$verified\\u0000x\"", "\"$ip\""}) : "\"$verified\"") : name(), any(3)));
        }
        return object(members);
    }

    std::string unset() {
        if (chance(0.3)) return person_object();
        std::string out = "[";
        for (size_t n = below(4), i = 0; i < n; ++i) {
            out += cat(i ? "," : "",
                       chance(0.4) ? std::string(one_of({"\"$verified\"", "\"$verified\\u0000\"", "1"})) : string());
        }
        return out + "]";
    }

    std::string properties() {
        if (chance(0.03 * wild_)) return one_of({"null", "[]", "\"p\"", "1"});
        std::vector<std::string> members;
        static const char* const special[] = {"\"$set\"",
                                              "\"$set_once\"",
                                              "\"$verified\"",
                                              "\"$heatmap_data\"",
                                              "\"$ip\"",
                                              "\"$sent_at\"",
                                              "\"$current_url\"",
                                              "\"$viewport_width\"",
                                              "\"$viewport_height\"",
                                              "\"$session_id\"",
                                              "\"$prev_pageview_pathname\"",
                                              "\"$prev_pageview_max_scroll\""};
        static const char* const wild_special[] = {"\"$unset\"", "\"$verified\\u0000\"", "\"$set\\u0000x\"",
                                                   "\"\\u0024set\""};
        for (size_t n = below(8); n > 0; --n) {
            const std::string key = chance(0.5) ? std::string(wild() ? one_of(wild_special) : one_of(special)) : name();
            std::string value;
            if (key == "\"$set\"" || key == "\"$set_once\"") value = wild() ? any(2) : person_object();
            else if (key == "\"$unset\"") value = unset();
            else if (key == "\"$heatmap_data\"") value = wild() ? any(2) : R"({"u":[{"x":1,"y":2.5}]})";
            else value = any(2);
            members.push_back(member(key, value));
        }
        if (chance(0.01)) {
            for (size_t i = 0; i < 500; ++i) members.push_back(cat("\"w", std::to_string(i), "\":", scalar()));
        }
        return object(members);
    }

    std::string identity_value(const char* const (&strings)[6]) {
        if (!wild() || chance(0.5)) return cat("\"", one_of(strings), "\"");
        return chance(0.5) ? number() : std::string(one_of({"true", "{}", "[1]", "null", "\"\""}));
    }

    std::string event_name() {
        static const char* const events[] = {"$pageview", "$exception", "$$heatmap", "$identify", "e", "$autocapture"};
        static const char* const wild_events[] = {"$pageview", "$exception\\u0000x", "\\u0024exception", "@SECRET@",
                                                  "e\\\"",     "phx_event"};
        return identity_value(wild() ? wild_events : events);
    }

    std::string distinct_id() {
        static const char* const ids[] = {"user-42", "client-id", "u", "42", "user@example.com", "\xc3\xa9t\xc3\xa9"};
        static const char* const wild_ids[] = {"a\\u0000b", "@SECRET@", "\\u00e9\xff", "phx_id", "q\\\"", "@OTHER@"};
        return identity_value(wild() ? wild_ids : ids);
    }

    std::string uuid() {
        if (!wild() || chance(0.9)) {
            return one_of({"\"01900a3c-8f1e-7a2b-9c3d-4e5f60718293\"", "\"01900a3c-0000-7000-8000-000000000001\""});
        }
        return one_of({"\"\"", "\"not-a-uuid\"", "42", "null", "\"01900A3C-8F1E-7A2B-9C3D-4E5F60718293\"",
                       "\"\\u00301900a3c-8f1e-7a2b-9c3d-4e5f60718293\""});
    }

    std::string inner_event() {
        std::vector<std::string> members;
        if (chance(0.9)) members.push_back(member("\"event\"", event_name()));
        if (chance(0.8)) members.push_back(member("\"distinct_id\"", distinct_id()));
        if (chance(0.9)) members.push_back(member("\"properties\"", properties()));
        if (chance(0.5)) members.push_back(member("\"timestamp\"", wild() ? any(1) : string()));
        if (chance(0.3)) members.push_back(member("\"token\"", "\"@TOKEN@\""));
        if (chance(0.1)) members.push_back(member("\"$verified\"", "true"));
        if (chance(0.1)) members.push_back(member("\"sent_at\"", string()));
        if (chance(0.1)) members.push_back(member("\"ip\"", string()));
        if (chance(0.1)) members.push_back(member("\"now\"", string()));
        if (chance(0.15 * wild_)) members.push_back(member("\"$set\"", wild() ? any(1) : person_object()));
        if (chance(0.15 * wild_)) members.push_back(member("\"$set_once\"", wild() ? any(1) : person_object()));
        if (chance(0.1 * wild_)) members.push_back(member("\"uuid\"", uuid()));
        for (size_t n = chance(0.3) ? below(3) : 0; n > 0; --n) members.push_back(member(name(), any(1)));
        return object(members);
    }

    // `text` as a JSON string, each quote, backslash and slash escaped one way or another.
    std::string embedded(std::string_view text) {
        std::string out = "\"";
        for (char c : text) {
            if (c == '"') out += wild() && chance(0.1) ? "\\u0022" : "\\\"";
            else if (c == '\\') out += wild() && chance(0.1) ? "\\u005c" : "\\\\";
            else if (c == '/' && wild() && chance(0.3)) out += "\\/";
            else if (static_cast<unsigned char>(c) < 0x20) out += c == '\n' ? "\\n" : c == '\t' ? "\\t" : "\\r";
            else out += c;
        }
        return out + "\"";
    }

    std::string outer() {
        std::vector<std::string> members;
        if (chance(0.97)) members.push_back(member("\"uuid\"", uuid()));
        if (chance(0.85)) members.push_back(member("\"distinct_id\"", distinct_id()));
        if (chance(0.8)) members.push_back(member("\"ip\"", wild() ? scalar() : "\"203.0.113.7\""));
        if (!wild()) {
            members.push_back(member("\"data\"", embedded(inner_event())));
        } else if (chance(0.6)) {
            members.push_back(member("\"data\"", chance(0.7) ? embedded(inner_event()) : inner_event()));
        } else if (chance(0.5)) {
            members.push_back(member("\"data\"", any(1)));
        }
        if (chance(0.8)) members.push_back(member("\"now\"", "\"2024-06-10T06:13:20.456789Z\""));
        if (chance(0.7)) members.push_back(member("\"sent_at\"", wild() ? scalar() : "\"2024-06-10T06:13:20.600Z\""));
        if (chance(0.9)) {
            members.push_back(
                member("\"token\"", wild() ? one_of({"null", "1", "\"phx_k\"", "\"@OTHER@\""}) : "\"@TOKEN@\""));
        }
        if (chance(0.8)) members.push_back(member("\"event\"", event_name()));
        if (chance(0.8)) members.push_back(member("\"timestamp\"", "\"2024-06-10T06:13:20.056789Z\""));
        if (chance(0.15 * wild_)) members.push_back(member("\"properties\"", properties()));
        if (chance(0.1 * wild_)) members.push_back(member("\"$set\"", person_object()));
        if (chance(0.1 * wild_)) members.push_back(member("\"$set_once\"", person_object()));
        if (chance(0.05 * wild_)) members.push_back(member("\"$verified\"", "true"));
        if (chance(0.05 * wild_)) members.push_back(member("\"team_id\"", number()));
        for (size_t n = chance(0.2 * wild_) ? below(3) : 0; n > 0; --n) members.push_back(member(name(), any(1)));
        return cat(ws(), object(members), ws());
    }

    std::mt19937_64 rng_;
    double wild_ = 1.0;  // the chance to leave the common shape at each choice
    size_t count_ = 0;
};

}  // namespace

std::vector<RandomMessage> random_messages(uint64_t seed, size_t count) {
    RandomCapture generate(seed);
    std::vector<RandomMessage> out;
    out.reserve(count);
    for (size_t i = 0; i < count; ++i) {
        RandomMessage m;
        m.c = generate.next();
        m.variant = &variants[generate.below(std::size(variants))];
        m.placement = {generate.chance(0.7), generate.chance(0.2)};
        m.small_limit = generate.chance(0.25);
        out.push_back(std::move(m));
    }
    return out;
}

}  // namespace test::corpus
