// `warden demo`: placeholder until the demo lands.
#include "commands.hpp"

namespace warden::cli {

Command add_demo_command(CLI::App& root) {
    CLI::App* cmd = root.add_subcommand("demo", "The whole pipeline on this machine against an in-process mock cluster");
    return {cmd, [] { return 2; }};
}

}  // namespace warden::cli
