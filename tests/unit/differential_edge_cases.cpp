// The hand-written edge cases of the differential tests: forged `$verified` wherever SPEC §4 looks,
// duplicated and disguised reserved names, `data` of every shape and escape, nulls, numbers of every
// form, identity fields of every type, nesting around the depth limit, routing and the heatmap
// split, ip and time fields, secrets in names and values, raw bytes, framing, wide objects, and
// outputs around the small size limit. Each runs under every token kind and placement.
#include "differential_corpus.hpp"

namespace test::corpus {
namespace {

constexpr std::string_view valid_uuid = "01900a3c-8f1e-7a2b-9c3d-4e5f60718293";

void add(std::vector<Case>& cases, std::string label, std::optional<std::string> value,
         std::vector<Header> headers = {}) {
    cases.push_back({std::move(label), std::move(value), std::move(headers)});
}

// The common shape and its edges: what a single pass can write from the input's own text.
void common_shape_cases(std::vector<Case>& cases) {
    add(cases, "the common shape", capture(with_props(R"({"$current_url":"https://x/","$lib":"web","n":1})")));
    add(cases, "numbers a writer prints as they are",
        capture(
            with_props(
                R"({"i":0,"n":-7,"big":999999999999999999,"nbig":-999999999999999999,"f":1.5,"z":0.0,"nz":-0.0,"five":5.0,
              "small":0.00001,"smaller":0.000001,"pi":3.14159265358979,"neg":-12.75,"t":1718000000000,"a":[0.5,-0.25]})"),
            R"("sent_at":1718000000000.5)"));
    add(cases, "numbers at the edge of what prints as it is",
        capture(with_props(
            R"({"d19":1234567890123456789,"s16":1234567890.123456,"z6":0.0000001,"tz":2.50,"e":1.0e5,"n0":-0})")));
    add(cases, "a number with a leading zero", capture(with_props(R"({"lz":01})")));
    add(cases, "kept escapes in names and values",
        capture(R"({"event":"e","distinct_id":"u","properties":{"q"k":"a"b","b\s":"c\d","ctl	":"

	","$set":{"k"":"\"}},"x"":"
"})",
                R"("sent_at":"a	b"c\d","timestamp":"
")"));
    add(cases, "a slash escape", capture(with_props(R"({"u":"https:\/\/x\/"})")));
    add(cases, "other top-level fields in data",
        capture(
            R"({"event":"e","distinct_id":"u","custom":{"a":[1,2]},"another":"x","token":"@TOKEN@","team_id":5,"project_id":6,"":null})"));
    std::string fields;
    for (int i = 0; i < 33; ++i) fields += cat(",\"f", std::to_string(i), "\":", std::to_string(i));
    add(cases, "32 other top-level fields in data",
        capture(cat(R"({"event":"e","distinct_id":"u")", fields.substr(0, fields.rfind(",\"f32\"")), "}")));
    add(cases, "33 other top-level fields in data", capture(cat(R"({"event":"e","distinct_id":"u")", fields, "}")));
    add(cases, "other top-level fields in data named like outer ones",
        capture(R"({"event":"e","distinct_id":"u","ip":"9.9.9.9","now":"inner","custom":1})", R"("custom2":2)"));
    add(cases, "properties.$set, $set_once, $ip and $sent_at of the common shape",
        capture(with_props(
            R"({"$set":{"plan":"pro","$verified":true},"$set_once":{"first":"2024"},"$ip":"10.1.1.1","$sent_at":"c","a":{"b":[true,false,null]}})")));
    add(cases, "properties.$set null and $set_once empty", capture(with_props(R"({"$set":null,"$set_once":{}})")));
    add(cases, "properties null", capture(R"({"event":"e","distinct_id":"u","properties":null})"));
    add(cases, "no properties", capture(R"({"event":"e","distinct_id":"u"})"));
    add(cases, "identity fields only in the outer object",
        bare(R"({"properties":{"a":1}})", R"("event":"e","distinct_id":"o","ip":"1.1.1.1")"));
    add(cases, "identity fields only in data", bare(R"({"event":"$exception","distinct_id":"d","properties":{}})"));
    add(cases, "outer fields null over data ones",
        bare(R"({"event":"e","distinct_id":"u","timestamp":"t","now":"n","sent_at":"s","ip":"1.1.1.1"})",
             R"("timestamp":null,"now":null,"sent_at":null,"ip":null)"));
    add(cases, "outer identity null over data", bare(R"({"event":"e","distinct_id":"u"})", R"("event":null)"));
    add(cases, "raw bytes of every kind in plain strings",
        capture(with_props("{\"k\xff\":\"\xc3\xa9\xf0\x9f\x98\x80\xed\xa0\x80\xc0\xaf\x7f\",\"e\":\"\xe2\x82\"}")));
    add(cases, "a NUL-free raw control character in data",
        capture(std::string("{\"event\":\"e\x01\",\"distinct_id\":\"u\"}")));
    add(cases, "every heatmap property, twice",
        capture(with_props(
            R"({"$heatmap_data":{"a":[1]},"$viewport_height":1,"$viewport_width":2,"$session_id":"s","$prev_pageview_pathname":"/p",
              "$prev_pageview_max_scroll":0.5,"$current_url":"u","$heatmap_data":{"b":[2]},"$viewport_height":3,"$viewport_width":4,
              "$session_id":"t","$prev_pageview_pathname":"/q","$prev_pageview_max_scroll":1.5,"$current_url":"v"})")));
    add(cases, "$heatmap_data on a $$heatmap event",
        capture(with_props(R"({"$heatmap_data":{"a":[1]},"$current_url":"u"})", "$$heatmap")));
    add(cases, "whitespace around every token of the common shape",
        spaced(capture(spaced(with_props(R"({"a":[1,{"b":2}],"$set":{"c":3},"$heatmap_data":{"u":[1]}})")))));
}

void forged_verified_cases(std::vector<Case>& cases) {
    add(cases, "$verified in properties", capture(with_props(R"({"$verified":true,"a":1})")));
    add(cases, "$verified false in properties", capture(with_props(R"({"a":1,"$verified":false})")));
    add(cases, "$verified in properties.$set",
        capture(with_props(R"({"$set":{"plan":"x","$verified":true}})", "$identify")));
    add(cases, "$verified in properties.$set_once", capture(with_props(R"({"$set_once":{"$verified":true}})")));
    add(cases, "$verified key in properties.$unset (object)",
        capture(with_props(R"({"$unset":{"a":1,"$verified":1}})")));
    add(cases, "$verified element in properties.$unset (array)",
        capture(with_props(R"({"$unset":["a","$verified",1,null,"$verified\u0000x",["$verified"]]})")));
    add(cases, "properties.$unset as string, number, null",
        capture(with_props(R"({"$unset":"$verified","$set":{"a":1},"$unset":7})")));
    add(cases, "properties.$unset null", capture(with_props(R"({"$unset":null})")));
    add(cases, "$verified in top-level $set of data",
        capture(R"({"event":"e","distinct_id":"u","$set":{"a":1,"$verified":true}})"));
    add(cases, "$verified in top-level $set_once of data",
        capture(R"({"event":"e","distinct_id":"u","$set_once":{"$verified":true,"b":2}})"));
    add(cases, "$verified in outer top-level $set", capture(with_props("{}"), R"("$set":{"$verified":true})"));
    add(cases, "$verified in outer top-level $set_once", capture(with_props("{}"), R"("$set_once":{"$verified":1})"));
    add(cases, "top-level $verified in data", capture(R"({"event":"e","distinct_id":"u","$verified":true})"));
    add(cases, "top-level $verified in the outer object", capture(with_props(R"({"a":1})"), R"("$verified":true)"));
    add(cases, "$verified everywhere at once",
        capture(
            R"({"event":"e","distinct_id":"u","$verified":true,"$set":{"$verified":true},"$set_once":{"$verified":true},
          "properties":{"$verified":true,"$set":{"$verified":true},"$set_once":{"$verified":true},"$unset":["$verified"]}})",
            R"("$verified":true,"$set":{"$verified":1},"$set_once":{"$verified":1})"));
    add(cases, "$verified disguised with a NUL",
        capture(with_props(
            R"({"$verified\u0000x":true,"$set":{"$verified\u0000":1},"$set_once":{"$verified\u0000\u0000":1},"$unset":["$verified\u0000y"]})")));
    add(cases, "properties disguised with a NUL",
        capture(R"({"event":"e","distinct_id":"u","properties\u0000x":{"$verified":true},"properties":{"a":1}})"));
    add(cases, "$set, $set_once and $unset disguised with a NUL",
        capture(R"({"event":"e","distinct_id":"u","$set\u0000":{"$verified":true},"$set_once\u0000z":{"$verified":true},
          "properties":{"$set\u0000x":{"$verified":true},"$unset\u0000":["$verified"],"$set_once\u0000":{"a":1}}})"));
    add(cases, "$verified spelt with escapes",
        capture(
            with_props(R"({"\u0024verified":true,"$set":{"\u0024ver\u0069fied":true},"$unset":["$verifie\u0064"]})")));
    add(cases, "$verified in inner properties that outer properties replace",
        capture(with_props(R"({"$verified":true})"), R"("properties":{"a":1})"));
    add(cases, "$verified in outer properties",
        capture(with_props(R"({"a":1})"), R"("properties":{"$verified":true,"$set":{"$verified":true}})"));
    add(cases, "$verified in a data duplicate the merge does not use",
        R"({"uuid":"01900a3c-8f1e-7a2b-9c3d-4e5f60718293","token":"@TOKEN@","data":)" +
            json_string(with_props(R"({"$verified":true})")) + R"(,"data":)" + json_string(with_props(R"({"a":1})")) +
            "}");
    add(cases, "$verified in a data duplicate as an object",
        R"({"uuid":"01900a3c-8f1e-7a2b-9c3d-4e5f60718293","token":"@TOKEN@","data":{"event":"e","distinct_id":"u","$verified":true},"data":)" +
            json_string(with_props("{}")) + "}");
    add(cases, "$verified deeper than the rules look (kept)",
        capture(with_props(R"({"a":{"$verified":true},"$set":{"x":{"$verified":true}},"l":["$verified"]})")));
    add(cases, "$verified beside $heatmap_data",
        capture(with_props(
            R"({"$verified":true,"$heatmap_data":{"https://x/":[{"x":1,"y":2}]},"$current_url":"https://x/","$set":{"$verified":1}})")));
    add(cases, "properties.$set and $set_once of the wrong type",
        capture(with_props(R"({"$set":["$verified"],"$set_once":"x"})")));
    add(cases, "top-level $set of the wrong type", capture(R"({"event":"e","distinct_id":"u","$set":[1]})"));
    add(cases, "properties of the wrong type",
        capture(R"({"event":"e","distinct_id":"u","properties":[{"$verified":true}]})"));
}

void duplicate_cases(std::vector<Case>& cases) {
    struct Pair {
        const char* name;
        const char* first;
        const char* second;
    };
    // Outer members: the capture value already holds most of them, so these are its second and third.
    const Pair outer[] = {
        {"uuid", R"("01900a3c-8f1e-7a2b-9c3d-4e5f60718294")", R"("not-a-uuid")"},
        {"event", R"("$exception")", R"("first")"},
        {"distinct_id", R"("a")", R"("b")"},
        {"data", R"("{\"event\":\"x\",\"distinct_id\":\"d\"}")", R"("{bad")"},
        {"data", R"({"event":"obj","distinct_id":"o"})", R"("{\"event\":\"str\",\"distinct_id\":\"s\"}")"},
        {"properties", R"({"a":1,"$verified":true})", R"({"b":2})"},
        {"token", R"("@OTHER@")", R"("@TOKEN@")"},
        {"token", R"("@SECRET@")", R"("phx_personal")"},
        {"$set", R"({"a":1})", R"({"$verified":true})"},
        {"$set_once", R"({"a":1})", R"({"b":2})"},
        {"ip", R"("1.1.1.1")", R"("2.2.2.2")"},
        {"timestamp", R"("t1")", R"(null)"},
        {"now", R"("n1")", R"("n2")"},
        {"sent_at", R"("s1")", R"(null)"},
        {"team_id", "999", "998"},
        {"project_id", "999", R"("x")"},
        {"$verified", "true", "false"},
    };
    for (const Pair& p : outer) {
        const std::string a = cat("\"", p.name, "\":", p.first);
        const std::string b = cat("\"", p.name, "\":", p.second);
        add(cases, "outer duplicate " + std::string(p.name) + " " + p.first + ", " + p.second,
            capture(with_props(R"({"a":1})"), a + "," + b));
        add(cases, "outer duplicate " + std::string(p.name) + " " + p.second + ", " + p.first,
            capture(with_props(R"({"a":1})"), b + "," + a));
    }
    const Pair inner[] = {
        {"event", R"("$exception")", R"("$$heatmap")"},
        {"distinct_id", R"("a")", "42"},
        {"properties", R"({"a":1})", R"({"$verified":true,"$heatmap_data":{"u":[1]}})"},
        {"$set", R"({"a":1})", R"({"$verified":true})"},
        {"$set_once", R"({"$verified":true})", R"({"a":1})"},
        {"uuid", R"("01900a3c-8f1e-7a2b-9c3d-4e5f60718294")", R"("")"},
        {"timestamp", R"("t1")", R"("t2")"},
        {"now", R"("n1")", "null"},
        {"sent_at", R"("s1")", R"("s2")"},
        {"ip", R"("1.1.1.1")", "null"},
        {"token", R"("@SECRET@")", R"("@TOKEN@")"},
        {"team_id", "7", "8"},
        {"$verified", "true", "null"},
    };
    for (const Pair& p : inner) {
        const std::string a = cat("\"", p.name, "\":", p.first);
        const std::string b = cat("\"", p.name, "\":", p.second);
        const std::string head = R"({"event":"e","distinct_id":"u","properties":{"c":3},)";
        add(cases, "data duplicate " + std::string(p.name) + " " + p.first + ", " + p.second,
            bare(head + a + "," + b + "}"));
        add(cases, "data duplicate " + std::string(p.name) + " " + p.second + ", " + p.first,
            bare(head + b + "," + a + "}"));
    }
    const Pair props[] = {
        {"$set", R"({"a":1,"$verified":true})", R"({"b":2})"},
        {"$set_once", R"({"a":1})", R"({"$verified":true})"},
        {"$unset", R"(["a","$verified"])", R"({"b":1})"},
        {"$ip", R"("10.0.0.1")", R"("")"},
        {"$sent_at", R"("s1")", "null"},
        {"$heatmap_data", R"({"u":[1]})", "null"},
        {"$heatmap_data", R"({"u":[1]})", R"({"v":[2]})"},
        {"$current_url", R"("https://a/")", R"("https://b/")"},
        {"$viewport_width", "1", "2.50"},
        {"$session_id", R"("s")", "null"},
        {"$verified", "true", "false"},
        {"a", "1", R"("two")"},
    };
    for (const Pair& p : props) {
        const std::string a = cat("\"", p.name, "\":", p.first);
        const std::string b = cat("\"", p.name, "\":", p.second);
        add(cases, "properties duplicate " + std::string(p.name) + " " + p.first + ", " + p.second,
            capture(with_props("{" + a + R"(,"$current_url":"https://x/",)" + b + "}")));
        add(cases, "properties duplicate " + std::string(p.name) + " " + p.second + ", " + p.first,
            capture(with_props("{" + b + R"(,"$current_url":"https://x/",)" + a + "}")));
    }
    add(cases, "duplicate $set in top level and properties with precedence",
        capture(
            R"({"event":"$identify","distinct_id":"u","properties":{"$set":{"a":"inner","b":"inner"},"$set_once":{"c":"inner"}},
          "$set":{"a":"top"},"$set_once":{"c":"top","d":"top"},"$set":{"a":"top2","$verified":true}})"));
}

void data_shape_cases(std::vector<Case>& cases) {
    add(cases, "data as an object",
        capture_object(R"({"event":"$pageview","distinct_id":"o","properties":{"a":1,"$set":{"b":2}},"x":[1]})"));
    add(cases, "data as an object with outer fields",
        capture_object(R"({"event":"e","distinct_id":"o","properties":{"a":1}})", R"("sent_at":"s","event":"outer")"));
    for (const char* data : {"[1]", "42", "null", "true", R"("{bad")", R"("null")", R"("[1]")", R"("")", R"("{} x")",
                             R"(" {} ")", R"("{}")", R"("\"{}\"")", "{}"}) {
        add(cases, std::string("data ") + data,
            R"({"uuid":"01900a3c-8f1e-7a2b-9c3d-4e5f60718293","event":"e","distinct_id":"u","token":"@TOKEN@","data":)" +
                std::string(data) + "}");
    }
    add(cases, "no data member",
        R"({"uuid":"01900a3c-8f1e-7a2b-9c3d-4e5f60718293","event":"e","distinct_id":"u","token":"@TOKEN@"})");
    add(cases, "data with escapes everywhere",
        capture(
            R"({"event":"e\"\\\/\n\u00e9\ud83d\ude00","distinct_id":"d\ud800x\u0000y","properties":{"k\u0000":"v\u0000w",
          "\u00e9":"\udc00","q\"":"\\","s\/":"a\/b","t":"\t\b\f\r","e":"\ud83d\ude00\ud83d","lo":"\udc00\ud800"}})"));
    add(cases, "data string with escaped quotes as \\u0022",
        R"({"uuid":"01900a3c-8f1e-7a2b-9c3d-4e5f60718293","token":"@TOKEN@","data":"{\u0022event\u0022:\u0022e\u0022,\u0022distinct_id\u0022:\u0022u\u0022,\u0022properties\u0022:{\u0022a\u0022:\u0022\\u00e9\u0022}}"})");
    add(cases, "reserved names spelt with escapes (outer)",
        R"({"\u0075uid":"01900a3c-8f1e-7a2b-9c3d-4e5f60718293","tok\u0065n":"@TOKEN@","\u0064ata":"{\"event\":\"e\",\"distinct_id\":\"u\"}",
          "prop\u0065rties":{"$verified":true,"a":1},"ev\u0065nt":"$exception","$s\u0065t":{"$verified":true},"\u0069p":"9.9.9.9"})");
    add(cases, "reserved names spelt with escapes (data)",
        bare(
            R"({"\u0065vent":"$$heatmap","distinct_\u0069d":"u","\u0070roperties":{"\u0024heatmap_data":{"u":[1]},"\u0024ip":"1.2.3.4","\u0024set":{"\u0024verified":1}}})"));
    add(cases, "names that read as reserved ones up to a NUL (outer)",
        capture(
            with_props(R"({"a":1})"),
            R"("uuid\u0000":"x","event\u0000x":"$exception","data\u0000":"{}","token\u0000":"@SECRET@","properties\u0000":{"$verified":true},
                  "team_id\u0000":1,"ip\u0000":"8.8.8.8","$set\u0000":{"$verified":true},"$verified\u0000x":true)"));
    add(cases, "names that read as reserved ones up to a NUL (data and properties)",
        capture(
            R"({"event":"e","distinct_id":"u","distinct_id\u0000":"v","event\u0000":"$exception","timestamp\u0000":"t",
          "properties":{"$ip\u0000":"1.1.1.1","$sent_at\u0000x":"s","$heatmap_data\u0000":{"u":[1]},"$current_url\u0000":"c"}})"));
    add(cases, "NUL in distinct_id and event",
        capture(R"({"event":"$exception\u0000x","distinct_id":"a\u0000b\u0000"})", R"("distinct_id":"o\u0000")"));
    add(cases, "empty names", capture(with_props(R"({"":1,"$set":{"":2}})"), R"("":"x")"));
}

void null_cases(std::vector<Case>& cases) {
    // Each known field present in data and null in the outer object: null shadows.
    const std::pair<const char*, const char*> fields[] = {
        {"uuid", R"("01900a3c-8f1e-7a2b-9c3d-4e5f60718293")"},
        {"event", R"("$pageview")"},
        {"distinct_id", R"("inner")"},
        {"properties", R"({"a":1,"$verified":true})"},
        {"$set", R"({"a":1,"$verified":true})"},
        {"$set_once", R"({"a":1})"},
        {"ip", R"("1.2.3.4")"},
        {"timestamp", R"("2024-01-01T00:00:00Z")"},
        {"now", R"("2024-01-01T00:00:01Z")"},
        {"sent_at", R"("2024-01-01T00:00:02Z")"},
        {"token", R"("@TOKEN@")"},
        {"team_id", "5"},
        {"$verified", "true"},
    };
    for (const auto& [name, value] : fields) {
        const std::string data = cat(R"({"event":"e","distinct_id":"u",")", name, "\":", value, "}");
        const std::string outer_null = cat("\"", name, "\":null");
        add(cases, "outer " + std::string(name) + " null over a data value",
            R"({"uuid":"01900a3c-8f1e-7a2b-9c3d-4e5f60718293","token":"@TOKEN@","data":)" + json_string(data) + "," +
                outer_null + "}");
        const std::string inner_null = cat(R"({"event":"e","distinct_id":"u",")", name, "\":null}");
        add(cases, "data " + std::string(name) + " null", capture(inner_null));
    }
    add(cases, "outer data null", R"({"uuid":"01900a3c-8f1e-7a2b-9c3d-4e5f60718293","token":"@TOKEN@","data":null})");
    add(cases, "token null in the value", bare(with_props("{}"), R"("token":null)"));
    add(cases, "null special properties",
        capture(with_props(
            R"({"$set":null,"$set_once":null,"$unset":null,"$ip":null,"$sent_at":null,"$heatmap_data":null,"$verified":null,"$current_url":null,"a":null})")));
    add(cases, "every field null",
        R"({"uuid":null,"event":null,"distinct_id":null,"data":null,"token":null,"properties":null})");
}

void number_cases(std::vector<Case>& cases) {
    add(cases, "numbers of every form in properties",
        capture(with_props(
            R"({"i":42,"neg":-7,"z":-0,"zf":-0.0,"f":1.50,"e":1e5,"E":1E5,"ep":2.5e+3,"ne":-1.5e-7,"big":123456789012345678901234567890,
              "u64":18446744073709551615,"u64p":18446744073709551616,"i64m":-9223372036854775808,"i64mm":-9223372036854775809,
              "tiny":1e-400,"pi":3.141592653589793238462643383279,"tenth":0.1,"min":2.2250738585072014e-308,"sub":4.9e-324,
              "max":1.7976931348623157e308,"long":0.30000000000000004,"arr":[1.0,-0,1e5,10000000000000000000000]})")));
    add(cases, "a number too large for a double (1E400)", capture(with_props(R"({"x":1E400})")));
    add(cases, "numbers in the outer object",
        capture(with_props("{}"),
                R"("team_id":1.5,"extra":1.50,"e":1e5,"neg":-0,"big":123456789012345678901234567890)"));
    add(cases, "numbers as timestamp, now, sent_at, ip and $ip",
        bare(with_props(R"({"$ip":1.50,"$sent_at":1e5})"),
             R"("timestamp":1718000000000,"now":1.50,"sent_at":-0,"ip":1e5,"event":"e","distinct_id":"u")"));
    add(cases, "decimals of 16 and 17 significant digits",
        capture(with_props(
                    R"({"a":0.9097040631431023,"b":0.30000000000000004,"c":-0.12345678901234568,"d":1234567890.1234567,
              "e":9007199254740993.5,"f":0.000012345678901234567,"g":[0.1000000000000001,2.2250738585072011e-308],
              "h":123456789012345.67,"i":0.99999999999999994})"),
                R"("sent_at":0.9097040631431023)"));
    add(cases, "large and small exponents",
        capture(with_props(
            R"({"a":3e109,"b":1e308,"c":1.7976931348623157e308,"d":-1.7976931348623157e308,"e":1.7976931348623158e308,
              "f":2.2250738585072014e-308,"g":4.9e-324,"h":-5e-324,"i":2.4703282292062327e-324,"j":2.4703282292062328e-324,
              "k":1E+300,"l":0.0001e312,"m":17976931348623157e292,"n":1e-400})")));
    add(cases, "integers past 64 bits",
        capture(with_props(R"({"a":18446744073709551616,"b":-9223372036854775809,)"
                           R"("c":220736504252236990245,"d":[-87127631960881521178244945]})")));
    // The single pass copies these (a writer prints them otherwise, but as the same double); read
    // with rounding at each digit, as RapidJSON's default does, the last four came out otherwise.
    add(cases, "integer parts of 19 digits or more before .0",
        capture(
            with_props(cat(R"({"c":1234567890123456789.0,"d":-12345678901234567890123.0,"e":)", std::string(100, '9'),
                           R"(.0,"f":1)", std::string(307, '0'), R"(.0,"g":[)", std::string(308, '9'), ".0],",
                           R"("h":220736504252236990245.0,"i":87127631960881521178244945.0,)",
                           R"("j":24934248600499197353380290388756.0,)",
                           R"("k":-8299407077935490070457830768156649787843101961166122.0})"))));
    // Numbers past the largest double: every one dead-lettered, wherever it is (written or not).
    const std::string huge = "17976931348623159" + std::string(292, '0') + ".0";
    for (const char* n : {"1.7976931348623159e308", "-5e308", "10e308", "3488395025793107e299", "17976931348623159e292",
                          "1e309", "-1E400"}) {
        add(cases, std::string("a number past the largest double: ") + n,
            capture(with_props(cat(R"({"a":1,"x":)", n, "}"))));
    }
    const std::pair<std::string, std::string> huge_places[] = {
        {"a property", capture(with_props(cat(R"({"a":1,"x":)", huge, "}")))},
        {"$set", capture(with_props(cat(R"({"$set":{"x":[)", huge, "]}}")))},
        {"$heatmap_data", capture(with_props(cat(R"({"$heatmap_data":{"u":[)", huge, R"(]},"$current_url":"u"})")))},
        {"$heatmap_data of a $$heatmap event",
         capture(with_props(cat(R"({"$heatmap_data":{"u":[)", huge, R"(]},"$current_url":"u"})"), "$$heatmap"))},
        {"$verified", capture(with_props(cat(R"({"a":1,"$verified":)", huge, "}")))},
        {"$ip", capture(with_props(cat(R"({"$ip":)", huge, "}")))},
        {"$sent_at under an outer sent_at", capture(with_props(cat(R"({"$sent_at":)", huge, "}")))},
        {"a top-level field of data", capture(cat(R"({"event":"e","distinct_id":"u","other":{"n":)", huge, "}}"))},
        {"data's team_id", capture(cat(R"({"event":"e","distinct_id":"u","team_id":)", huge, "}"))},
        {"data's $verified", capture(cat(R"({"event":"e","distinct_id":"u","$verified":)", huge, "}"))},
        {"data's timestamp under the outer one",
         capture(cat(R"({"event":"e","distinct_id":"u","timestamp":)", huge, "}"))},
        {"the outer ip", bare(with_props("{}"), cat(R"("ip":)", huge))},
        {"the outer token", cat(R"({"uuid":"01900a3c-8f1e-7a2b-9c3d-4e5f60718293","data":)",
                                json_string(with_props("{}")), R"(,"token":)", huge, "}")},
        {"distinct_id", bare(cat(R"({"event":"e","distinct_id":)", huge, "}"))},
    };
    for (const auto& [place, value] : huge_places) {
        add(cases, "a 309-digit number ending .0 in " + place, value);
    }
    add(cases, "numbers in $set and $heatmap_data",
        capture(
            R"({"event":"e","distinct_id":"u","$set":{"n":1.50},"properties":{"$set_once":{"m":1e5},"$heatmap_data":{"u":[{"x":1.50,"y":-0}]},"$viewport_width":1E3}})"));
}

void identity_cases(std::vector<Case>& cases) {
    for (const char* v : {"42", "-0", "1.50", "1e5", "123456789012345678901234567890", "true", "false", "{}", "[]",
                          R"({"a":1})", R"(["x"])", R"("")", "null", "1E400", "-9223372036854775809"}) {
        add(cases, std::string("event ") + v + " in data",
            bare(R"({"distinct_id":"u","properties":{},"event":)" + std::string(v) + "}"));
        add(cases, std::string("event ") + v + " in the outer object",
            capture(with_props("{}"), R"("event":)" + std::string(v)));
        add(cases, std::string("distinct_id ") + v + " in data",
            bare(R"({"event":"e","properties":{},"distinct_id":)" + std::string(v) + "}"));
        add(cases, std::string("distinct_id ") + v + " in the outer object",
            capture(with_props("{}"), R"("distinct_id":)" + std::string(v)));
    }
    for (const char* v : {R"("")", R"("not-a-uuid")", R"("01900A3C-8F1E-7A2B-9C3D-4E5F60718293")",
                          R"("{01900a3c-8f1e-7a2b-9c3d-4e5f60718293}")", R"("01900a3c8f1e7a2b9c3d4e5f60718293")",
                          R"("01900a3c-8f1e-7a2b-9c3d-4e5f6071829")", R"("01900a3c-8f1e-7a2b-9c3d-4e5f60718293\u0000")",
                          R"("\u00301900a3c-8f1e-7a2b-9c3d-4e5f60718293")",
                          R"(" 01900a3c-8f1e-7a2b-9c3d-4e5f60718293")", "42", "true", "{}", "null"}) {
        add(cases, std::string("uuid ") + v,
            R"({"token":"@TOKEN@","event":"e","distinct_id":"u","data":"{}","uuid":)" + std::string(v) + "}");
    }
    add(cases, "uuid missing", R"({"token":"@TOKEN@","event":"e","distinct_id":"u","data":"{}"})");
    add(cases, "uuid only in data",
        R"({"token":"@TOKEN@","data":)" +
            json_string(R"({"event":"e","distinct_id":"u","uuid":"01900a3c-8f1e-7a2b-9c3d-4e5f60718293"})") + "}");
}

void depth_cases(std::vector<Case>& cases) {
    // The limit is 64 levels per parsed document: the outer object and the data string apart.
    for (size_t depth : {63, 64, 65}) {
        const std::string d = std::to_string(depth);
        for (bool objects : {false, true}) {
            const std::string kind = objects ? " (objects)" : " (arrays)";
            // data string: its object (1) and properties (2) hold the rest.
            add(cases, "data string nested " + d + " deep in properties" + kind,
                capture(with_props(R"({"deep":)" + nested(depth - 2, objects) + "}")));
            // data string: top-level $set (2), rendered one level deeper inside properties.
            add(cases, "data string nested " + d + " deep in top-level $set" + kind,
                capture(R"({"event":"e","distinct_id":"u","$set":{"deep":)" + nested(depth - 2, objects) + "}}"));
            add(cases, "data string nested " + d + " deep in $heatmap_data" + kind,
                capture(with_props(R"({"$heatmap_data":{"u":)" + nested(depth - 3, objects) + "}}")));
            add(cases, "data string nested " + d + " deep in an other field" + kind,
                capture(R"({"event":"e","distinct_id":"u","other":)" + nested(depth - 1, objects) + "}"));
            // outer object (1), properties (2).
            add(cases, "outer object nested " + d + " deep in properties" + kind,
                capture(with_props("{}"), R"("properties":{"deep":)" + nested(depth - 2, objects) + "}"));
            // outer object (1), data object (2), properties (3).
            add(cases, "data object nested " + d + " deep in properties" + kind,
                capture_object(R"({"event":"e","distinct_id":"u","properties":{"deep":)" + nested(depth - 3, objects) +
                               "}}"));
        }
    }
}

void routing_cases(std::vector<Case>& cases) {
    const std::string heatmap_props =
        R"({"$heatmap_data":{"https://x/":[{"x":1,"y":2,"target_fixed":true,"type":"click"}]},"$viewport_height":800,
            "$viewport_width":1280,"$session_id":"s1","$prev_pageview_pathname":"/a","$prev_pageview_max_scroll":0.5,
            "$current_url":"https://x/","$lib":"web","$ip":"10.0.0.9"})";
    add(cases, "$pageview with $heatmap_data", capture(with_props(heatmap_props)));
    add(cases, "$pageview with $heatmap_data in outer properties",
        capture(with_props(R"({"a":1})"), R"("properties":)" + heatmap_props));
    add(cases, "$exception with $heatmap_data", capture(with_props(heatmap_props, "$exception")));
    add(cases, "$$heatmap event", capture(with_props(heatmap_props, "$$heatmap")));
    add(cases, "$$heatmap event without heatmap data", capture(with_props(R"({"a":1})", "$$heatmap")));
    add(cases, "$exception event",
        capture(with_props(R"({"$exception_list":[{"type":"TypeError","value":"x is undefined"}]})", "$exception")));
    add(cases, "$exception from the outer event", capture(with_props("{}"), R"("event":"$exception")"));
    add(cases, "$heatmap_data of other types", capture(with_props(R"({"$heatmap_data":"str","$current_url":"u"})")));
    add(cases, "$heatmap_data empty", capture(with_props(R"({"$heatmap_data":{},"$verified":true})")));
    add(cases, "$heatmap_data with a secret",
        capture(
            with_props(R"({"$heatmap_data":{"@SECRET@":[{"x":"@BACKUP@"}]},"$current_url":"https://x/?k=@OTHER@"})")));
    for (const char* skip : {"false", "TRUE", "", "true "}) {
        add(cases, std::string("$heatmap_data with skip_heatmap_processing '") + skip + "'",
            capture(with_props(heatmap_props)), {{"skip_heatmap_processing", skip}});
    }
    add(cases, "$heatmap_data with a null skip_heatmap_processing header", capture(with_props(heatmap_props)),
        {{"skip_heatmap_processing", std::nullopt}});
    add(cases, "$heatmap_data with an empty, then a true skip_heatmap_processing header",
        capture(with_props(heatmap_props)), {{"skip_heatmap_processing", ""}, {"skip_heatmap_processing", "true"}});
    add(cases, "event and uuid headers rewritten on the heatmap event", capture(with_props(heatmap_props)),
        {{"event", "$pageview"}, {"uuid", std::string(valid_uuid)}, {"EVENT", "x"}, {std::string("uuid\0x", 6), "y"}});
    add(cases, "event names close to the routed ones", capture(with_props(heatmap_props, " $exception")),
        {{"event", "$exception"}});
    add(cases, "event $exception spelt with an escape", capture(with_props("{}", "\\u0024exception")));
}

void ip_time_cases(std::vector<Case>& cases) {
    add(cases, "ip in the outer object only", capture(with_props(R"({"a":1})")));
    add(cases, "ip in data only", bare(R"({"event":"e","distinct_id":"u","ip":"1.2.3.4","properties":{}})"));
    add(cases, "ip outer and in data", capture(R"({"event":"e","distinct_id":"u","ip":"1.2.3.4"})"));
    add(cases, "$ip already in properties", capture(with_props(R"({"$ip":"10.0.0.1"})")));
    add(cases, "$ip empty with an ip", capture(with_props(R"({"$ip":""})")));
    add(cases, "$ip false with an ip", capture(with_props(R"({"$ip":false})")));
    add(cases, "$ip 0 with an ip", capture(with_props(R"({"$ip":0})")));
    add(cases, "ip empty", capture(with_props("{}"), R"("ip":"")"));
    add(cases, "ip an object", capture(with_props("{}"), R"("ip":{"v4":"1.2.3.4"})"));
    add(cases, "ip false", capture(with_props("{}"), R"("ip":false)"));
    add(cases, "$ip in $set only", capture(with_props(R"({"$set":{"$ip":"1.1.1.1"}})")));
    add(cases, "sent_at and $sent_at", capture(with_props(R"({"$sent_at":"client"})")));
    add(cases, "$sent_at only", bare(with_props(R"({"$sent_at":"client"})")));
    add(cases, "sent_at null with $sent_at", capture(with_props(R"({"$sent_at":"client"})"), R"("sent_at":null)"));
    add(cases, "sent_at in data only", bare(R"({"event":"e","distinct_id":"u","sent_at":"inner"})"));
    add(cases, "sent_at an object", capture(with_props("{}"), R"("sent_at":{"t":1})"));
    add(cases, "no timestamp: now is used", bare(with_props("{}"), R"("now":"2024-06-10T06:13:20.456789Z")"));
    add(cases, "timestamp null: now is used", capture(with_props("{}"), R"("timestamp":null)"));
    add(cases, "timestamp in data only",
        bare(R"({"event":"e","distinct_id":"u","timestamp":"2024-01-01T00:00:00Z"})", R"("now":"n")"));
    add(cases, "now in data only", bare(R"({"event":"e","distinct_id":"u","now":"inner-now"})"));
    add(cases, "neither timestamp nor now", bare(with_props("{}")));
    add(cases, "timestamp an array, now an object", bare(with_props("{}"), R"("timestamp":[1,2],"now":{"a":1})"));
}

void secret_cases(std::vector<Case>& cases) {
    add(cases, "secrets in property values",
        capture(with_props(
            R"({"a":"@SECRET@","b":"Bearer @BACKUP@,x","c":"@OTHER@","d":"phx_personalkey","e":"phs_unknownkey","f":["@SECRET@",{"g":"@BACKUP@"}]})")));
    add(cases, "secrets in property names",
        capture(with_props(R"({"@SECRET@":1,"k-@BACKUP@":2,"@OTHER@":3,"phx_abc":4,"$set":{"@SECRET@":"v"}})")));
    add(cases, "a secret in distinct_id (outer)", capture(with_props("{}"), R"("distinct_id":"id-@SECRET@")"));
    add(cases, "a secret in distinct_id (data)", bare(R"({"event":"e","distinct_id":"@BACKUP@"})"));
    add(cases, "another team's secret in distinct_id", capture(with_props("{}"), R"("distinct_id":"@OTHER@")"));
    add(cases, "a personal key in distinct_id", capture(with_props("{}"), R"("distinct_id":"phx_key1")"));
    add(cases, "a secret in the event name", capture(with_props("{}", "@SECRET@")));
    add(cases, "a personal key as the event name", capture(with_props("{}", "phx_event")));
    add(cases, "secrets in timestamp, now, sent_at and ip",
        capture(with_props("{}"), R"("timestamp":"@SECRET@","now":"@BACKUP@","sent_at":"@OTHER@","ip":"phs_x")"));
    add(cases, "secrets in other outer fields", capture(with_props("{}"), R"("note":"@SECRET@","@BACKUP@":"v")"));
    add(cases, "secrets in top-level $set", capture(R"({"event":"e","distinct_id":"u","$set":{"k":"@SECRET@"}})"));
    add(cases, "a secret spelt with escapes",
        capture(with_props(R"({"a":"phs\u005fsecret_acme","b":"phs_secr\u0065t_acme","c":"phs_backup\u005facme"})")));
    add(cases, "a secret as a whole property string", capture(with_props(R"({"token":"@TOKEN@","key":"@SECRET@"})")));
    add(cases, "secrets in headers and key", capture(with_props("{}")),
        {{"x-@OTHER@", "Bearer @BACKUP@"}, {"note", "@SECRET@"}, {"phx_header", "phx_value"}});
    add(cases, "forged team_id, verified and replayed headers", capture(with_props("{}")),
        {{"team_id", "999"},
         {"verified", "true"},
         {"Verified", "true"},
         {"replayed", "1"},
         {"TOKEN", "x"},
         {std::string("token\0x", 7), "y"}});
}

void byte_cases(std::vector<Case>& cases) {
    add(cases, "raw invalid UTF-8 in outer strings and names",
        "{\"uuid\":\"01900a3c-8f1e-7a2b-9c3d-4e5f60718293\",\"token\":\"@TOKEN@\",\"distinct_id\":\"bad\xff\","
        "\"event\":\"e\xc0\xaf\",\"n\xfe\":\"v\xed\xa0\x80\",\"data\":\"{}\"}");
    add(cases, "raw invalid UTF-8 in the data string",
        capture("{\"event\":\"e\",\"distinct_id\":\"u\xe2\x82\",\"properties\":{\"k\xff\":\"\xf0\x9f\x98\",\"a\":"
                "\"\xf8\x88\x80\x80\x80\"}}"));
    add(cases, "raw valid UTF-8", capture(with_props("{\"caf\xc3\xa9\":\"\xf0\x9f\x98\x80 \xe2\x82\xac\"}")));
    add(cases, "invalid UTF-8 in headers and key", capture(with_props("{}")), {{"note", "x\xfe"}, {"n\xff", "v"}});
    add(cases, "lone surrogate escapes",
        capture(with_props(
            R"({"a":"\ud800","b":"\udc00x","c":"\ud800\ud800","d":"\\ud800","e":"\udbff\udfff","\ud800":1})")),
        {});
    add(cases, "a raw NUL in the value",
        capture(with_props("{}")).substr(0, 40) + std::string(1, '\0') + capture(with_props("{}")).substr(40));
    add(cases, "control characters raw in a string", capture(with_props("{\"a\":\"x\x01y\"}")));
}

void framing_cases(std::vector<Case>& cases) {
    const std::string value = capture(with_props(R"({"a":1})"));
    add(cases, "trailing garbage after the object", value + " x");
    add(cases, "a second object after the object", value + "{}");
    add(cases, "a NUL and garbage after the object", value + std::string(1, '\0') + "garbage");
    add(cases, "trailing whitespace", value + " \n\t\r ");
    add(cases, "truncated", value.substr(0, value.size() / 2));
    add(cases, "truncated data string", value.substr(0, value.find("\"data\":") + 20));
    add(cases, "whitespace everywhere (outer)", spaced(value));
    add(cases, "whitespace everywhere (outer and data)",
        spaced(capture(spaced(with_props(R"({"a":[1,{"b":2}],"$set":{"c":3},"$unset":["d"]})")),
                       R"("$set":{"e":4},"properties":{"f":[]})")));
    add(cases, "whitespace inside the data string", capture(" \n" + with_props(R"({ "a" : 1 })") + " \t"));
    add(cases, "the empty object", "{}");
    add(cases, "empty data", bare("{}"));
    add(cases, "empty objects everywhere",
        capture(
            R"({"event":"e","distinct_id":"u","properties":{"$set":{},"$set_once":{},"$unset":{},"$heatmap_data":{}},"$set":{},"$set_once":{}})",
            R"("properties":{})"));
    add(cases, "$unset empty array", capture(with_props(R"({"$unset":[]})")));
    for (const char* v : {"", "null", "[]", "42", "\"str\"", "{", "[{}]", " ", "{\"uuid\":}"}) {
        add(cases, std::string("value '") + v + "'", std::string(v));
    }
    add(cases, "no value", std::nullopt);
}

void wide_cases(std::vector<Case>& cases) {
    const std::string half = wide_object(5'000, "p");
    const std::string half_members = half.substr(1, half.size() - 2);
    const std::string outer = wide_object(10'000, "o");
    add(cases, "10,000 properties", capture(with_props(wide_object(10'000, "p", R"("$verified":true)"))));
    add(cases, "10,000 properties, half of them duplicates",
        capture(with_props("{" + half_members + "," + half_members + R"(,"$set":{"a":1},"$set":{"$verified":true}})")));
    add(cases, "10,000 members in properties.$set",
        capture(with_props(R"({"$set":)" + wide_object(10'000, "s", R"("$verified":true)") + "}")));
    add(cases, "10,000 members in the outer object", capture(with_props("{}"), outer.substr(1, outer.size() - 2)));
    add(cases, "10,000 properties in the outer object",
        capture(with_props("{}"), R"("properties":)" + wide_object(10'000, "q", R"("$heatmap_data":{"u":[1]})")));
}

void size_cases(std::vector<Case>& cases) {
    // Around the small limit: the input fits, the outputs may not.
    for (size_t pad : {900, 1300, 1500, 1700, 1800, 1900}) {
        const std::string filler(pad, 'x');
        add(cases, "a " + std::to_string(pad) + "-byte property", capture(with_props(R"({"f":")" + filler + "\"}")));
        add(cases, "a " + std::to_string(pad) + "-byte property with $heatmap_data",
            capture(with_props(R"({"$heatmap_data":{"u":")" + filler.substr(0, pad / 2) + R"("},"$current_url":")" +
                               filler.substr(0, pad / 2) + "\"}")));
        add(cases, "a " + std::to_string(pad / 6) + "-escape property",
            capture(with_props(R"({"e":")" + replace_all(std::string(pad / 6, 'e'), "e", "\\u00e9") + "\"}")));
        add(cases, "a " + std::to_string(pad / 4) + "-number array",
            capture(with_props(R"({"n":[)" + replace_all(std::string(pad / 5, 'n'), "n", "1.50,") + "0]}")));
    }
}

}  // namespace

std::vector<Case> hand_written_cases() {
    std::vector<Case> cases;
    common_shape_cases(cases);
    forged_verified_cases(cases);
    duplicate_cases(cases);
    data_shape_cases(cases);
    null_cases(cases);
    number_cases(cases);
    identity_cases(cases);
    depth_cases(cases);
    routing_cases(cases);
    ip_time_cases(cases);
    secret_cases(cases);
    byte_cases(cases);
    framing_cases(cases);
    wide_cases(cases);
    size_cases(cases);
    return cases;
}

}  // namespace test::corpus
