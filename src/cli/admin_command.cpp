// `warden admin`: signed requests to a worker's admin endpoints, for team stores whose change
// notifications cannot reach the workers (PostgreSQL behind a transaction-pooling proxy).
#include "commands.hpp"
#include "secret_file.hpp"
#include "usage.hpp"

#include <warden/admin.hpp>

#include <iostream>
#include <memory>

namespace warden::cli {
namespace {

// The ops server answers at once; anything slower is not answering.
constexpr std::chrono::milliseconds answer_timeout{5000};

struct AdminArgs {
    std::string address = "127.0.0.1:9464";
    std::string secret_file;
    int64_t team = 0;
};

// Signs and sends `action`, prints the answer; exit 0 on 200, 1 otherwise.
int send(const AdminArgs& args, const AdminAction& action) {
    const std::string command = "warden admin " + std::string(to_string(action.kind));
    if (args.secret_file.empty()) {
        throw UsageError(
            "--signing-secret-file (or WARDEN_ADMIN_SIGNING_SECRET_FILE) is required: the file holding the worker's "
            "admin signing secret");
    }
    const std::string secret = read_secret_file("--signing-secret-file", args.secret_file,
                                                "--signing-secret-file takes a file holding the secret",
                                                SecretFilePart::content_without_final_line_breaks);
    if (secret.size() < admin_min_secret_bytes) {
        throw UsageError("--signing-secret-file: the admin signing secret must hold at least " +
                         std::to_string(admin_min_secret_bytes) + " bytes");
    }
    const AdminAnswer answer = send_admin_request(args.address, action, secret, answer_timeout);
    std::cout << answer.body << std::flush;
    if (answer.status == 200) return exit_ok;
    std::cerr << command << ": the ops server at " << args.address << " answered " << answer.status << std::endl;
    return exit_failure;
}

void add_connection_options(CLI::App& command, AdminArgs& args) {
    command
        .add_option("--address", args.address,
                    "host:port of the worker's ops server (its --metrics-address); plain HTTP, so loopback or the "
                    "pod's own network only")
        ->capture_default_str()
        ->check(listen_address());
    command
        .add_option("--signing-secret-file", args.secret_file,
                    "File holding the admin signing secret (the worker's --admin-signing-secret-file, or its previous "
                    "one during a rotation)")
        ->envname("WARDEN_ADMIN_SIGNING_SECRET_FILE");
}

}  // namespace

CLI::App& add_admin_group(CLI::App& root) {
    CLI::App* admin = root.add_subcommand(
        "admin",
        "Signed requests to a worker's admin endpoints: warden admin invalidate --team N (the team's cached tokens "
        "go), warden admin flush (every cached team goes)");
    admin->require_subcommand(1);
    return *admin;
}

Command add_admin_invalidate_command(CLI::App& admin) {
    auto args = std::make_shared<AdminArgs>();
    CLI::App* cmd = admin.add_subcommand(
        "invalidate",
        "Have every team cache of the worker forget a team's tokens (and learn its current ones at its next batch), "
        "as after a change notice of the team store. Prints the answer; exit 0 when it was accepted, 1 otherwise");
    cmd->add_option("--team", args->team, "The id of the team whose cached tokens go")->check(whole_number<int64_t>(1));
    add_connection_options(*cmd, *args);
    Command command{cmd, [args] {
                        if (args->team == 0) throw UsageError("--team is required: the id of the team to invalidate");
                        return send(*args, {AdminAction::Kind::invalidate, args->team});
                    }};
    command.group = "admin";
    return command;
}

Command add_admin_flush_command(CLI::App& admin) {
    auto args = std::make_shared<AdminArgs>();
    CLI::App* cmd = admin.add_subcommand(
        "flush",
        "Have every team cache of the worker forget everything it holds; each looks its tokens up again. Prints the "
        "answer; exit 0 when it was accepted, 1 otherwise");
    add_connection_options(*cmd, *args);
    Command command{cmd, [args] { return send(*args, {AdminAction::Kind::flush, 0}); }};
    command.group = "admin";
    return command;
}

}  // namespace warden::cli
