#include "usage.hpp"

#include <algorithm>
#include <cctype>

namespace warden::cli {
namespace {

std::string lowercase(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// Optimal string alignment distance: insertions, deletions, substitutions and swaps of
// neighbours each cost one, the usual typing mistakes.
size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
    for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
    for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        for (size_t j = 1; j <= b.size(); ++j) {
            const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
            }
        }
    }
    return d[a.size()][b.size()];
}

bool looks_like_option(const std::string& argument) { return argument.size() > 1 && argument[0] == '-'; }

bool is_name_shaped(std::string_view name) {
    constexpr size_t longest_name = 64;
    return !name.empty() && name.size() <= longest_name && std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
    });
}

}  // namespace

std::string closest_name(std::string_view wanted, const std::vector<std::string>& candidates) {
    const std::string key = lowercase(wanted);
    if (key.empty()) return {};
    std::string best;
    size_t best_distance = std::string::npos;
    std::vector<std::string> extensions;  // candidates that `wanted` abbreviates
    for (const std::string& candidate : candidates) {
        const std::string lower = lowercase(candidate);
        const size_t distance = edit_distance(key, lower);
        if (distance < best_distance) {
            best_distance = distance;
            best = candidate;
        }
        if (key.size() >= 3 && lower.starts_with(key)) extensions.push_back(candidate);
    }
    const size_t allowed = std::clamp<size_t>(key.size() / 3, 1, 3);
    if (best_distance <= allowed) return best;
    if (extensions.size() == 1) return extensions.front();
    return {};
}

bool may_quote_unknown_name(std::string_view name, const std::vector<std::string>& known) {
    return is_name_shaped(name) && !closest_name(name, known).empty();
}

std::string command_path(const CLI::App& command) {
    const CLI::App* parent = command.get_parent();
    if (!parent || parent->get_name().empty()) return command.get_name();
    return parent->get_name() + " " + command.get_name();
}

std::vector<std::string> long_option_names(const CLI::App& command) {
    std::vector<std::string> names;
    for (const CLI::Option* option : command.get_options()) {
        for (const std::string& name : option->get_lnames()) names.push_back(name);
    }
    return names;
}

std::string unplaced_arguments_message(const CLI::App& command, const std::vector<std::string>& extras) {
    const std::string where = "`" + command_path(command) + "`";
    const auto option = std::find_if(extras.begin(), extras.end(), looks_like_option);
    if (option == extras.end()) {
        if (command.get_subcommands({}).empty()) {
            return where + " takes no positional arguments, but got " + std::to_string(extras.size()) +
                   " (not shown: they may hold secrets); settings are given as --name value";
        }
        std::vector<std::string> names;
        for (const CLI::App* sub : command.get_subcommands({})) names.push_back(sub->get_name());
        return unknown_command_message(extras.front(), names);
    }
    // Only the option's name: `--name=value` keeps its value to itself.
    std::string name = option->substr(0, option->find('='));
    const bool long_form = name.starts_with("--");
    std::vector<std::string> candidates = long_option_names(command);
    const std::string bare = name.substr(long_form ? 2 : 1);
    // After a single dash, a word is as likely a value that starts with '-' (a password) as an option.
    const bool shown = long_form ? is_name_shaped(bare) : bare.size() == 1 || may_quote_unknown_name(bare, candidates);
    if (!shown) {
        return "an unknown option, or a value starting with '-' where none belongs, for " + where +
               " (not shown: it may be a secret); settings are given as --name value";
    }
    std::string message = "unknown option " + name + " for " + where;
    if (name == "--version" && command.get_parent()) return message + "; `warden --version` prints the version";
    if (const std::string near = closest_name(bare, candidates); !near.empty())
        return message + "; did you mean --" + near + "?";
    const bool takes_properties = std::find(candidates.begin(), candidates.end(), "kafka-property") != candidates.end();
    if (takes_properties && (bare.starts_with("sasl") || bare.starts_with("ssl") || bare.starts_with("security"))) {
        message +=
            "; librdkafka properties go in --kafka-property name=value, such as --kafka-property sasl.username=reader";
    }
    return message;
}

std::string unknown_command_message(const std::string& word, const std::vector<std::string>& commands) {
    if (may_quote_unknown_name(word, commands)) {
        return "unknown command '" + word + "'; did you mean " + closest_name(word, commands) + "?";
    }
    std::string message = "unknown command (not shown: it may hold a secret); the commands are";
    for (size_t i = 0; i < commands.size(); ++i) message += (i ? ", " : " ") + commands[i];
    return message;
}

std::string parse_error_message(const CLI::ParseError& error) {
    std::string text = error.what();
    if (dynamic_cast<const CLI::ValidationError*>(&error)) {
        // "--batch-size: must be ..." reads better without the colon.
        if (const size_t colon = text.find(": must "); colon != std::string::npos) text.erase(colon, 1);
        return text;
    }
    if (dynamic_cast<const CLI::ConversionError*>(&error)) {
        // CLI11 quotes the value here; name the option only.
        const size_t dashes = text.find("--");
        if (dashes == std::string::npos) return "a value could not be read as the kind of value its option takes";
        const size_t end = text.find_first_of(" =", dashes);
        return text.substr(dashes, end - dashes) + " has a value of the wrong kind";
    }
    if (dynamic_cast<const CLI::ArgumentMismatch*>(&error)) {
        if (const size_t at = text.find(": 1 required"); at != std::string::npos && text.ends_with("missing")) {
            return text.substr(0, at) + " needs a value";
        }
        return text;
    }
    if (dynamic_cast<const CLI::ExtrasError*>(&error)) return "unexpected arguments (not shown: they may hold secrets)";
    return text;
}

}  // namespace warden::cli
