#include <warden/loadgen.hpp>

#include <warden/json_text.hpp>

#include <cinttypes>
#include <cstdio>
#include <iterator>

namespace warden::loadgen {
namespace {

constexpr const char* custom_events[] = {"order_completed", "signed_up", "button_clicked", "checkout_started",
                                         "feature_flag_called"};
constexpr const char* paths[] = {"/",     "/pricing",          "/products/shoes-7741",
                                 "/cart", "/checkout/payment", "/blog/how-we-ship-fast"};

// Backup secrets are secrets too (phs_), numbered apart from the current ones.
constexpr int backup_token_offset = 1'000'000;

std::string iso(int64_t ms) {
    const int64_t s = ms / 1000;
    char buf[40];
    std::snprintf(buf, sizeof buf, "2026-11-20T%02d:%02d:%02d.%03dZ", static_cast<int>(s / 3600 % 24),
                  static_cast<int>(s / 60 % 60), static_cast<int>(s % 60), static_cast<int>(ms % 1000));
    return buf;
}

}  // namespace

std::string make_token(const char* prefix, int team) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s%039d", prefix, team);
    return buf;
}

std::string teams_json(int count) {
    std::string out = "[";
    for (int t = 1; t <= count; ++t) {
        if (t > 1) out += ',';
        char buf[512];
        std::snprintf(buf, sizeof buf,
                      R"({"id":%d,"project_id":%d,"name":"Team %d","api_token":"%s",)"
                      R"("secret_api_token":"%s","secret_api_token_backup":"%s",)"
                      R"("anonymize_ips":%s,"heatmaps_opt_in":%s})",
                      t, 1000 + t, t, make_token("phc_", t).c_str(), make_token("phs_", t).c_str(),
                      make_token("phs_", backup_token_offset + t).c_str(), t % 7 == 0 ? "true" : "false",
                      t % 10 == 0 ? "false" : (t % 3 == 0 ? "null" : "true"));
        out += buf;
    }
    return out + "]";
}

GeneratedMessage EventGenerator::next(uint64_t n) {
    const int team = 1 + static_cast<int>(pick(teams_));
    const uint64_t kind = pick(100);  // 70 public, 20 secret, 5 backup, 3 forged, 2 malformed
    std::string token = kind >= 70 && kind < 90   ? make_token("phs_", team)
                        : kind >= 90 && kind < 95 ? make_token("phs_", backup_token_offset + team)
                        : kind == 0               ? make_token("phc_", -team)  // no team owns it
                                                  : make_token("phc_", team);
    const bool forged = kind >= 95 && kind < 98;
    const bool malformed = kind >= 98;

    const uint64_t shape = pick(100);
    std::string event = shape < 45   ? "$pageview"
                        : shape < 55 ? "$autocapture"
                        : shape < 60 ? "$pageleave"
                        : shape < 68 ? "$identify"
                        : shape < 71 ? "$exception"
                        : shape < 73 ? "$$heatmap"
                                     : custom_events[pick(std::size(custom_events))];
    const bool heatmap_data = event == "$$heatmap" || (shape < 45 && pick(10) == 0);

    char uuid[40];
    std::snprintf(uuid, sizeof uuid, "01900a3c-%04x-7%03x-8%03x-%012" PRIx64, static_cast<unsigned>(n >> 16 & 0xffff),
                  static_cast<unsigned>(n & 0xfff), static_cast<unsigned>(pick(0x1000)),
                  static_cast<uint64_t>(rng_() & 0xffffffffffffULL));
    const std::string distinct_id = "user-" + std::to_string(pick(20'000)) + "-" + std::to_string(team);
    const std::string ip = "198.51." + std::to_string(pick(256)) + "." + std::to_string(pick(256));
    const std::string path = paths[pick(std::size(paths))];
    const int64_t ts_ms = 1'795'168'800'000 + static_cast<int64_t>(n * 7);
    const std::string ts = iso(ts_ms), sent = iso(ts_ms + 400), now = iso(ts_ms + 900);

    std::string data = "{\"token\": ";
    json::append_json_string(data, token);
    data += ", \"event\": ";
    json::append_json_string(data, event);
    data += ", \"distinct_id\": ";
    json::append_json_string(data, distinct_id);
    data += ", \"properties\": {\"$current_url\": \"https://shop.example";
    data += path;
    data +=
        "\", \"$lib\": \"web\", \"$browser\": \"Chrome\", "
        "\"$session_id\": \"01936d8f-";
    data += uuid + 9;
    data += '"';
    if (event == "$exception") {
        data +=
            ", \"$exception_list\": [{\"type\": \"TypeError\", \"value\": \"x is undefined\", "
            "\"stacktrace\": {\"frames\": [{\"filename\": \"app.js\", \"lineno\": 1204}]}}]";
    } else if (event == "$autocapture") {
        data += ", \"$event_type\": \"click\", \"$elements_chain\": \"button.btn-primary:text=\\\"Buy\\\"\"";
    } else if (event != "$identify") {
        data += ", \"$viewport_width\": 1280, \"$viewport_height\": 800";
    }
    if (heatmap_data) {
        data += ", \"$heatmap_data\": {\"https://shop.example";
        data += path;
        data += "\": [{\"x\": " + std::to_string(pick(1280)) + ", \"y\": " + std::to_string(pick(800)) +
                ", \"target_fixed\": false, \"type\": \"click\"}]}";
    }
    if (event == "$identify") data += ", \"$set\": {\"email\": \"someone@example.com\", \"name\": \"Some One\"}";
    if (forged) data += pick(2) ? ", \"$verified\": true" : ", \"$set\": {\"$verified\": true}";
    data += "}, \"timestamp\": \"";
    data += ts;
    data += "\"}";

    std::string value = "{\"uuid\": ";
    json::append_json_string(value, malformed && pick(2) ? std::string("not-a-uuid") : std::string(uuid));
    value += ", \"distinct_id\": ";
    json::append_json_string(value, distinct_id);
    value += ", \"ip\": \"" + ip + "\", \"data\": ";
    json::append_json_string(value, data);
    value += ", \"now\": \"" + now + "\", \"sent_at\": \"" + sent + "\", \"token\": ";
    json::append_json_string(value, token);
    value += ", \"event\": ";
    json::append_json_string(value, event);
    value += ", \"timestamp\": \"" + ts + "\"}";
    if (malformed && value.find("not-a-uuid") == std::string::npos) value.resize(value.size() / 2);

    GeneratedMessage m;
    m.key = token + ":" + distinct_id;
    m.value = std::move(value);
    m.headers = {{"token", token}, {"distinct_id", distinct_id},         {"event", event},
                 {"uuid", uuid},   {"timestamp", std::to_string(ts_ms)}, {"now", now}};
    return m;
}

}  // namespace warden::loadgen
