#include "layered_args.hpp"

#include "config_file.hpp"
#include "usage.hpp"

#include <algorithm>

namespace warden::cli {
namespace {

bool asks_for_help(const std::vector<std::string>& args) {
    for (const std::string& arg : args) {
        if (arg == "--") break;
        if (arg == "--help" || arg == "-h") return true;
    }
    return false;
}

// The config file named by `--config FILE` / `--config=FILE` (the last one), else WARDEN_CONFIG.
std::string config_path(const std::vector<std::string>& args, const GetEnv& getenv) {
    std::string path;
    bool given = false;
    if (const char* env = getenv("WARDEN_CONFIG")) path = env;
    for (size_t i = 0; i < args.size() && args[i] != "--"; ++i) {
        if (args[i] == "--config" && i + 1 < args.size()) {
            path = args[++i];
            given = true;
        } else if (args[i].starts_with("--config=")) {
            path = args[i].substr(9);
            given = true;
        }
    }
    if (given && path.empty()) throw UsageError("--config needs the name of a TOML file");
    return path;
}

// The first complaint of the option's checks about `value`, or empty when they accept it.
std::string complaint(CLI::Option& option, const std::string& value) {
    for (int i = 0;; ++i) {
        CLI::Validator* check = nullptr;
        try {
            check = option.get_validator(i);
        } catch (const CLI::OptionNotFound&) {
            return {};
        }
        std::string copy = value;
        if (std::string message = (*check)(copy); !message.empty()) return message;
    }
}

// A repeatable option collects values from every layer, and so lists each origin once; any other
// takes the last one.
void note_origin(SettingOrigins& origins, const CLI::Option& option, const std::string& name,
                 const std::string& origin) {
    std::string& noted = origins[name];
    const bool repeatable = option.get_items_expected_max() > 1;
    if (!repeatable || noted.empty()) {
        noted = origin;
    } else if (noted != origin && !noted.ends_with(", " + origin)) {
        noted += ", " + origin;
    }
}

// The arguments built so far, and where each setting came from.
struct Layers {
    std::vector<std::string> arguments;
    SettingOrigins* origins = nullptr;

    // Appends `--name=value` after checking the value; `source` says where it came from for an
    // error, `origin` for the report.
    void add_checked(CLI::App& command, const std::string& name, const std::string& value, const std::string& source,
                     const std::string& origin) {
        CLI::Option* option = command.get_option("--" + name);
        if (const std::string message = complaint(*option, value); !message.empty()) {
            throw UsageError(source + " " + message);
        }
        arguments.push_back("--" + name + "=" + value);
        if (origins) note_origin(*origins, *option, name, origin);
    }
};

// Notes the long options on the command line (before a bare "--") as set by a flag.
void record_flags(CLI::App& command, const std::vector<std::string>& command_line, SettingOrigins& origins) {
    for (const std::string& arg : command_line) {
        if (arg == "--") break;
        if (!arg.starts_with("--")) continue;
        const std::string name = arg.substr(2, arg.find('=') - 2);
        if (const CLI::Option* option = command.get_option_no_throw("--" + name)) {
            note_origin(origins, *option, name, "flag");
        }
    }
}

bool has_long_option(const CLI::App& command, const std::string& name) {
    const std::vector<std::string> names = long_option_names(command);
    return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

void add_config_option(CLI::App& command) {
    command.add_option("--config",
                       "TOML config file (env WARDEN_CONFIG); its keys are the long flag names below without dashes, "
                       "such as brokers = \"kafka-1:9092\" or batch-size = 500; environment variables override it, "
                       "flags override both");
}

std::vector<std::string> layered_arguments(CLI::App& command, const std::vector<std::string>& command_line,
                                           const GetEnv& getenv, const std::vector<EnvironmentValue>& extra_environment,
                                           SettingOrigins* origins) {
    if (asks_for_help(command_line)) return command_line;
    Layers layers{{}, origins};
    if (const std::string path = config_path(command_line, getenv); !path.empty()) {
        for (const ConfigSetting& setting : read_config_file(command, path)) {
            const std::string line = path + ":" + std::to_string(setting.line);
            layers.add_checked(command, setting.name, setting.value, line + ": setting '" + setting.name + "'", line);
        }
    }
    for (const CLI::Option* option : command.get_options()) {
        const std::string& variable = option->get_envname();
        if (variable.empty() || option->get_lnames().empty()) continue;
        if (const char* value = getenv(variable.c_str()); value && *value) {
            layers.add_checked(command, option->get_lnames().front(), value, "the environment variable " + variable,
                               "environment " + variable);
        }
    }
    for (const EnvironmentValue& extra : extra_environment) {
        if (!has_long_option(command, extra.option)) continue;
        if (const char* value = getenv(extra.variable.c_str()); value && *value) {
            layers.add_checked(command, extra.option, extra.prefix + value,
                               "the environment variable " + extra.variable, "environment " + extra.variable);
        }
    }
    if (origins) record_flags(command, command_line, *origins);
    std::vector<std::string> out = std::move(layers.arguments);
    out.insert(out.end(), command_line.begin(), command_line.end());
    return out;
}

}  // namespace warden::cli
