#include "layered_args.hpp"

#include <fstream>

namespace warden::cli {
namespace {

std::string trim(const std::string& s) {
    const size_t first = s.find_first_not_of(" \t\r");
    if (first == std::string::npos) return {};
    return s.substr(first, s.find_last_not_of(" \t\r") - first + 1);
}

const CLI::Option* long_option(const CLI::App& command, const std::string& name) {
    for (const CLI::Option* option : command.get_options()) {
        for (const std::string& lname : option->get_lnames()) {
            if (lname == name) return option;
        }
    }
    return nullptr;
}

// The value of `--config FILE` / `--config=FILE` on the command line, if any.
std::string config_path(const std::vector<std::string>& args, const GetEnv& getenv) {
    std::string path;
    if (const char* env = getenv("WARDEN_CONFIG")) path = env;
    for (size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--config" && i + 1 < args.size()) path = args[i + 1];
        if (args[i].rfind("--config=", 0) == 0) path = args[i].substr(9);
    }
    return path;
}

}  // namespace

std::vector<std::string> config_file_arguments(const CLI::App& command, const std::string& path) {
    std::ifstream in(path);
    if (!in) throw CLI::FileError("cannot read the config file " + path);
    std::vector<std::string> out;
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
        const size_t hash = line.find('#');
        if (hash != std::string::npos) line.resize(hash);
        line = trim(line);
        if (line.empty()) continue;
        const size_t eq = line.find('=');
        const std::string where = path + ":" + std::to_string(number);
        if (eq == std::string::npos) throw CLI::ValidationError(where, "expected `name = value`, got '" + line + "'");
        const std::string name = trim(line.substr(0, eq));
        if (name == "config" || !long_option(command, name)) {
            throw CLI::ValidationError(where, "unknown setting '" + name + "' (see --help for the names)");
        }
        out.push_back("--" + name + "=" + trim(line.substr(eq + 1)));
    }
    return out;
}

std::vector<std::string> layered_arguments(const CLI::App& command, const std::vector<std::string>& command_line,
                                           const GetEnv& getenv) {
    std::vector<std::string> out;
    if (const std::string path = config_path(command_line, getenv); !path.empty()) {
        out = config_file_arguments(command, path);
    }
    for (const CLI::Option* option : command.get_options()) {
        const std::string& env = option->get_envname();
        if (env.empty() || option->get_lnames().empty()) continue;
        if (const char* value = getenv(env.c_str()); value && *value) {
            out.push_back("--" + option->get_lnames().front() + "=" + value);
        }
    }
    out.insert(out.end(), command_line.begin(), command_line.end());
    return out;
}

}  // namespace warden::cli
