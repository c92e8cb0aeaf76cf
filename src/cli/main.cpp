// warden: command-line entry point. Each subcommand's settings come from, in rising precedence,
// a config file (--config), WARDEN_* environment variables and flags.
#include "warden_cli.hpp"

#include <warden/crash_report.hpp>

#include <cstdlib>
#include <iostream>

int main(int argc, char** argv) {
    warden::crash_report::install();
    warden::cli::WardenCli cli;
    const std::vector<std::string> args(argv + 1, argv + argc);
    if (const auto status = cli.parse(
            args, [](const char* name) { return std::getenv(name); }, std::cout, std::cerr)) {
        return *status;
    }
    return cli.run(std::cerr);
}
