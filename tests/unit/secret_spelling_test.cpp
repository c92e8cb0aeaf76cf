// SPEC §5: a team's secret never leaves in an output value, whatever characters it holds and however
// the client spelt them in JSON (short escapes such as \t, \u0009 in either case, \/ for a slash), on
// both renderers, in the analytics and the heatmap output.
#include "support.hpp"

#include <warden/secret_keys.hpp>

using namespace warden;
using test::Harness;
using test::Input;

namespace {

// Team 7's secrets hold characters a JSON writer escapes; team 8's too, one of them a phs_ key;
// team 9's secret starts with one, and its backup holds slashes (which a client may spell `\/`).
constexpr std::string_view teams = R"([
 {"id":7,"project_id":70,"name":"Ctl","api_token":"phc_ctl","secret_api_token":"tab\there",
  "secret_api_token_backup":"nl\ncr\rbs\bff\fend","anonymize_ips":false,"heatmaps_opt_in":true},
 {"id":8,"project_id":80,"name":"Quote","api_token":"phc_quote","secret_api_token":"q\"uote\\back/slash\u0001ctl\u001f",
  "secret_api_token_backup":"phs_key\twith tab","anonymize_ips":false,"heatmaps_opt_in":true},
 {"id":9,"project_id":90,"name":"Lead","api_token":"phc_lead","secret_api_token":"\tlead",
  "secret_api_token_backup":"sl/ash/9","anonymize_ips":false,"heatmaps_opt_in":true}
])";

struct Secret {
    const char* token;  // the public token of the team that owns it
    std::string text;
};

std::vector<Secret> secrets() {
    return {{"phc_ctl", "tab\there"},
            {"phc_ctl", "nl\ncr\rbs\bff\fend"},
            {"phc_quote",
             "q\"uote\\back/slash\x01"
             "ctl\x1f"},
            {"phc_quote", "phs_key\twith tab"},
            {"phc_lead", "\tlead"},
            {"phc_lead", "sl/ash/9"}};
}

// How a client may spell a character in a JSON string.
enum class Spelling { short_escapes, upper_hex, lower_hex, escaped_slash };

std::string spell(std::string_view text, Spelling how) {
    const bool short_forms = how == Spelling::short_escapes || how == Spelling::escaped_slash;
    const char* const hex = how == Spelling::lower_hex ? "0123456789abcdef" : "0123456789ABCDEF";
    std::string out;
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        const char* short_form = nullptr;
        switch (c) {
            case '"': short_form = "\\\""; break;
            case '\\': short_form = "\\\\"; break;
            case '\b': short_form = "\\b"; break;
            case '\f': short_form = "\\f"; break;
            case '\n': short_form = "\\n"; break;
            case '\r': short_form = "\\r"; break;
            case '\t': short_form = "\\t"; break;
            default: break;
        }
        if (short_form && short_forms) {
            out += short_form;
        } else if (short_form || c < 0x20) {
            out += "\\u00";
            out += hex[c >> 4];
            out += hex[c & 0xf];
        } else if (c == '/' && how == Spelling::escaped_slash) {
            out += "\\/";
        } else {
            out += ch;
        }
    }
    return out;
}

// Every member name and string of a parsed output that holds `secret`.
bool holds(const rapidjson::Value& v, std::string_view secret) {
    if (v.IsString())
        return std::string_view(v.GetString(), v.GetStringLength()).find(secret) != std::string_view::npos;
    if (v.IsArray()) {
        for (const auto& e : v.GetArray()) {
            if (holds(e, secret)) return true;
        }
    }
    if (v.IsObject()) {
        for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m) {
            if (holds(m->name, secret) || holds(m->value, secret)) return true;
        }
    }
    return false;
}

void check_clean(const OutputRecord& r, std::string_view secret) {
    CHECK_FALSE(holds(test::parse(r.value), secret));
    CHECK(r.value->find(secret) == std::string::npos);
    if (r.key) CHECK(r.key->find(secret) == std::string::npos);
    for (size_t i = 0; i < r.headers.size(); ++i) {
        CHECK(r.headers[i].name.find(secret) == std::string_view::npos);
        if (r.headers[i].value) CHECK(r.headers[i].value->find(secret) == std::string_view::npos);
    }
}

}  // namespace

TEST_CASE("secrets: a team secret holding characters JSON escapes is redacted however it is spelt") {
    for (bool single_pass : {true, false}) {
        for (const Secret& secret : secrets()) {
            for (Spelling how :
                 {Spelling::short_escapes, Spelling::upper_hex, Spelling::lower_hex, Spelling::escaped_slash}) {
                const std::string s = spell(secret.text, how);
                // One place at a time, so no other finding hides a leak.
                const std::vector<std::pair<std::string, std::string>> places = {
                    {R"({"event":"e","distinct_id":"u","properties":{"a":")" + s + R"("}})", ""},
                    {R"({"event":"e","distinct_id":"u","properties":{"a":"x-)" + s + R"(-y","b":1}})", ""},
                    {R"({"event":"e","distinct_id":"u","properties":{")" + s + R"(":1}})", ""},
                    {R"({"event":"e","distinct_id":"u","properties":{"a":[1,{"b":")" + s + R"("}]}})", ""},
                    {R"({"event":"e","distinct_id":"u","properties":{"$set":{"k":")" + s + R"("}}})", ""},
                    {R"({"event":"e","distinct_id":"u","other":")" + s + R"("})", ""},
                    {R"({"event":")" + s + R"(","distinct_id":"u"})", ""},
                    {R"({"event":"e","distinct_id":"u"})", R"("note":")" + s + "\""},
                    {R"({"event":"e","distinct_id":"u"})", R"("distinct_id":")" + s + "\""},
                    {R"({"event":"e","distinct_id":"u","properties":{"$heatmap_data":{"u":[")" + s +
                         R"("]},"$current_url":"https://x/?k=)" + s + R"("}})",
                     ""},
                };
                for (const auto& place : places) {
                    const std::string& data = place.first;
                    const std::string& outer = place.second;
                    CAPTURE(single_pass);
                    CAPTURE(secret.text);
                    CAPTURE(static_cast<int>(how));
                    CAPTURE(data);
                    CAPTURE(outer);
                    Harness h(CoreLimits{.single_pass = single_pass}, teams);
                    const auto& r = h.run_one(test::event_with(secret.token, data, outer));
                    REQUIRE(r.outcomes.size() == 1);
                    REQUIRE_FALSE(r.outcomes[0].dead_letter);
                    REQUIRE(r.records.size() >= 1);
                    for (const OutputRecord& record : r.records) check_clean(record, secret.text);
                    CHECK(r.outcomes[0].secret_redacted);
                }
            }
        }
    }
}

TEST_CASE("secrets: a team secret holding escaped characters in a header or the key is redacted there") {
    for (const Secret& secret : secrets()) {
        CAPTURE(secret.text);
        Harness h(CoreLimits{}, teams);
        Input in = test::event_with(secret.token, R"({"event":"e","distinct_id":"u"})");
        in.headers.emplace_back("x-note", "a " + secret.text + " b");
        in.headers.emplace_back("x-" + secret.text, "1");
        const auto& r = h.run_one(in);
        REQUIRE(r.records.size() == 1);
        check_clean(r.records[0], secret.text);
        CHECK(r.outcomes[0].secret_redacted);
    }
}

TEST_CASE("secrets: an escaped backslash followed by a letter is not a control character") {
    // "\\tlead" in JSON is a backslash and "tlead", not the secret "\tlead" (a tab, then "lead"); the
    // text around it is not redacted.
    for (bool single_pass : {true, false}) {
        CAPTURE(single_pass);
        Harness h(CoreLimits{.single_pass = single_pass}, teams);
        const auto& r = h.run_one(test::event_with(
            "phc_lead", R"({"event":"e","distinct_id":"u","properties":{"a":"\\tlead","b":"x\\\\tlead"}})"));
        REQUIRE(r.records.size() == 1);
        CHECK_FALSE(r.outcomes[0].secret_redacted);
        const auto d = test::parse(r.records[0].value);
        CHECK(std::string(d["properties"]["a"].GetString()) == "\\tlead");
        CHECK(std::string(d["properties"]["b"].GetString()) == "x\\\\tlead");
    }
}
