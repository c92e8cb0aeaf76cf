#include "config_file.hpp"

#include "usage.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace warden::cli {
namespace {

enum class Kind { switch_flag, single, repeatable };

Kind kind_of(const CLI::Option& option) {
    if (option.get_items_expected_max() == 0) return Kind::switch_flag;
    return option.get_items_expected_max() > 1 ? Kind::repeatable : Kind::single;
}

// Keys are shown in messages; a quoted TOML key may hold anything, so only printable ASCII of a
// reasonable length goes out.
std::string printable_key(std::string_view key) {
    std::string out;
    for (const char c : key.substr(0, 64)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
    return key.size() > 64 ? out + "..." : out;
}

// The settable option of `command` named `key`: a long name other than help and config.
const CLI::Option* settable_option(const CLI::App& command, std::string_view key) {
    if (key == "help" || key == "config") return nullptr;
    for (const CLI::Option* option : command.get_options()) {
        const auto& names = option->get_lnames();
        if (std::find(names.begin(), names.end(), key) != names.end()) return option;
    }
    return nullptr;
}

// Reads one config file for one command: loads it, parses the TOML and turns each key into settings.
class ConfigReader {
public:
    ConfigReader(const CLI::App& command, std::string path) : command_(command), path_(std::move(path)) {}

    std::vector<ConfigSetting> read() {
        const std::string text = load();
        toml::table table;
        try {
            table = toml::parse(text, path_);
        } catch (const toml::parse_error& e) {
            const int line = static_cast<int>(e.source().begin.line);
            fail(line, setting_on_line(text, line), reason(e.description()));
        }
        // A toml::table iterates in key order; messages and values follow the file's order.
        std::vector<std::pair<const toml::key*, const toml::node*>> entries;
        for (const auto& [key, node] : table) entries.emplace_back(&key, &node);
        std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
            return a.first->source().begin.line < b.first->source().begin.line;
        });
        std::vector<ConfigSetting> settings;
        for (const auto& [key, node] : entries) add_setting(*key, *node, settings);
        return settings;
    }

private:
    [[noreturn]] void fail(int line, const std::string& setting, const std::string& what) const {
        std::string where = path_ + ":" + std::to_string(line) + ": ";
        if (!setting.empty()) where += "setting '" + setting + "': ";
        throw UsageError(where + what);
    }

    std::string load() const {
        namespace fs = std::filesystem;
        std::error_code ec;
        if (fs::is_directory(path_, ec)) {
            throw UsageError("the config file " + path_ +
                             " is a directory; --config takes a TOML file, such as "
                             "/etc/warden/warden.toml");
        }
        std::ifstream in(path_, std::ios::binary);
        if (!in) throw UsageError("cannot read the config file " + path_ + ": " + std::strerror(errno));
        std::string text(max_config_file_bytes + 1, '\0');
        in.read(text.data(), static_cast<std::streamsize>(text.size()));
        if (in.bad()) throw UsageError("cannot read the config file " + path_ + ": " + std::strerror(errno));
        text.resize(static_cast<size_t>(in.gcount()));
        if (text.size() > max_config_file_bytes) {
            throw UsageError("the config file " + path_ + " is larger than " +
                             std::to_string(max_config_file_bytes >> 20) +
                             " MiB; is it the right file? A config file holds a few settings");
        }
        return text;
    }

    // The name of the setting on line `line` (1-based), when the line starts with a known key:
    // an unknown word before '=' could be part of a value, so it is not shown.
    std::string setting_on_line(const std::string& text, int line) const {
        std::istringstream in(text);
        std::string content;
        for (int n = 0; n < line && std::getline(in, content); ++n) {
        }
        std::string key;
        if (const size_t open = content.find_first_not_of(" \t"); open != std::string::npos && content[open] == '[') {
            key = content.substr(open + 1, content.find(']', open) - open - 1);  // a table header: [name]
        } else if (const size_t eq = content.find('='); eq != std::string::npos) {
            key = content.substr(0, eq);
        }
        key.erase(0, key.find_first_not_of(" \t["));
        key.erase(key.find_last_not_of(" \t]") + 1);
        if (key.size() >= 2 && (key.front() == '"' || key.front() == '\'') && key.back() == key.front()) {
            key = key.substr(1, key.size() - 2);
        }
        return settable_option(command_, key) || key == "config" ? key : std::string();
    }

    // toml++'s description, in terms of what to do; its own text may quote part of a value.
    static std::string reason(std::string_view description) {
        const auto has = [description](std::string_view part) {
            return description.find(part) != std::string_view::npos;
        };
        if (has("redefine")) {
            return R"(given twice; a setting appears once (a repeatable one takes a list: name = ["a", "b"]))";
        }
        if (has("could not determine value type")) {
            return "the value is not TOML: put text in double quotes, such as brokers = \"kafka-1:9092\"";
        }
        if (has("control character")) {
            return "a line break or control character inside a \"...\" string: use \"\"\"...\"\"\" for text over "
                   "several lines, or an escape such as \\n";
        }
        if (has("escape sequence")) {
            return R"(an unknown \ escape in a "..." string: write \\ for a backslash, or use a '...' literal string)";
        }
        if (has("end-of-file")) return "the file ends inside a string, list or table: close it";
        if (has("utf-8")) return "not UTF-8 text: is it the right file?";
        if (has("not representable")) return "a number too large";
        // Anything else, without the parts toml++ quotes.
        std::string out;
        bool quoted = false;
        for (const char c : description) {
            if (c == '\'') {
                quoted = !quoted;
                if (quoted) out += "(...)";
            } else if (!quoted) {
                out += c;
            }
        }
        return "not valid TOML (" + out + ")";
    }

    void add_setting(const toml::key& key, const toml::node& node, std::vector<ConfigSetting>& out) const {
        const int line = static_cast<int>(key.source().begin.line);
        const std::string name = printable_key(key.str());
        if (key.str() == "config") fail(line, name, "a config file cannot name another one; give --config once");
        const CLI::Option* option = settable_option(command_, key.str());
        if (!option) fail(line, "", unknown_key_message(std::string(key.str()), node));
        const Kind kind = kind_of(*option);
        if (node.is_table()) {
            fail(line, name,
                 kind == Kind::repeatable ? "takes a list of \"name=value\" texts, not a table: " + name +
                                                " = [\"security.protocol=SASL_SSL\"]"
                                          : "takes one value, not a table");
        }
        if (const toml::array* list = node.as_array()) {
            if (kind != Kind::repeatable) fail(line, name, "takes one value, not a list");
            for (const toml::node& element : *list) {
                const int element_line = static_cast<int>(element.source().begin.line);
                if (element.is_array() || element.is_table()) {
                    fail(element_line, name, R"(takes a list of texts, such as ["a=1", "b=2"])");
                }
                out.push_back({option, name, text_of(element, kind, element_line, name), element_line});
            }
            return;
        }
        out.push_back({option, name, text_of(node, kind, line, name), line});
    }

    std::string unknown_key_message(const std::string& key, const toml::node& node) const {
        std::vector<std::string> names = long_option_names(command_);
        std::erase(names, "help");
        std::erase(names, "config");
        const std::string where = " for `" + command_path(command_) + "`";
        const bool takes_kafka_properties = std::find(names.begin(), names.end(), "kafka-property") != names.end();
        if (node.is_table() && takes_kafka_properties) {
            // `sasl.username = "x"` makes a table `sasl` in TOML.
            return "unknown setting" + where +
                   "; librdkafka properties go in a list of name=value texts: "
                   "kafka-property = [\"sasl.username=reader\"]";
        }
        const std::string see =
            " (settings are the long flag names without dashes: see `warden help " + command_.get_name() + "`)";
        if (command_.get_option_no_throw("--" + key)) return "unknown setting '" + key + "'" + where + see;  // --help
        if (may_quote_unknown_name(key, names)) {
            return "unknown setting '" + key + "'" + where + "; did you mean " + closest_name(key, names) + "?" + see;
        }
        // A key that is no setting's typo may be a secret pasted as a key.
        return "unknown setting" + where + " (the key is not shown: it may be a secret)" + see;
    }

    // A value as the flag takes it.
    std::string text_of(const toml::node& node, Kind kind, int line, const std::string& name) const {
        if (const auto* flag = node.as_boolean()) {
            if (kind != Kind::switch_flag) fail(line, name, "takes text or a number, not true or false");
            return flag->get() ? "true" : "false";
        }
        if (kind == Kind::switch_flag)
            fail(line, name, "is a switch: write " + name + " = true or false, without quotes");
        if (const auto* text = node.as_string()) return text->get();
        if (const auto* number = node.as_integer()) return std::to_string(number->get());
        if (const auto* number = node.as_floating_point()) {
            char buffer[64];
            const auto written = std::to_chars(buffer, buffer + sizeof buffer, number->get());  // shortest exact form
            return std::string(buffer, written.ptr);
        }
        if (const auto* time = node.as_date_time()) {
            if (!time->get().offset) fail(line, name, "a time needs a zone, such as 2024-06-10T06:00:00Z");
            std::ostringstream out;
            out << time->get();
            return out.str();
        }
        fail(line, name, "takes text or a number; a date or a time of day alone is not enough");
    }

    const CLI::App& command_;
    std::string path_;
};

}  // namespace

std::vector<ConfigSetting> read_config_file(const CLI::App& command, const std::string& path) {
    return ConfigReader(command, path).read();
}

}  // namespace warden::cli
