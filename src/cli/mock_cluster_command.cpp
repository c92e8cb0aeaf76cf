// `warden mock-cluster`: a standalone librdkafka mock cluster for scripts and trying warden with kcat.
#include "commands.hpp"

#include <warden/audit.hpp>
#include <warden/files.hpp>
#include <warden/mock_cluster.hpp>

#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <thread>

namespace warden::cli {
namespace {

struct MockArgs {
    int brokers = 1;
    int partitions = 8;
    TopicNames topics;
    std::string input_topic{default_input_topic};
    std::string audit_topic{default_audit_topic};
    std::string bootstrap_file;
};

int run_mock_cluster(const MockArgs& args) {
    MockCluster cluster(args.brokers);
    for (const std::string* topic : {&args.input_topic, &args.topics.analytics, &args.topics.error_tracking,
                                     &args.topics.heatmaps, &args.topics.dead_letter, &args.audit_topic}) {
        cluster.create_topic(*topic, args.partitions);
    }
    if (!args.bootstrap_file.empty()) {
        // Written whole, then renamed, so a script polling for the file never reads half of it.
        const std::string tmp = args.bootstrap_file + ".tmp";
        std::ofstream(tmp) << cluster.bootstraps() << '\n';
        std::rename(tmp.c_str(), args.bootstrap_file.c_str());
    }
    std::cout << cluster.bootstraps() << std::endl;
    std::cerr << "mock Kafka cluster up; topics have " << args.partitions
              << " partitions; Ctrl-C stops it (it keeps at most 5 MiB per partition)" << std::endl;
    while (!stop_requested()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return 0;
}

}  // namespace

Command add_mock_cluster_command(CLI::App& root) {
    auto args = std::make_shared<MockArgs>();
    CLI::App* cmd =
        root.add_subcommand("mock-cluster",
                            "Start librdkafka's in-process mock Kafka cluster with warden's topics, print its "
                            "bootstrap address on stdout and serve until SIGINT/SIGTERM (for scripts and kcat)");
    add_config_option(*cmd);
    cmd->add_option("--broker-count", args->brokers, "Brokers in the cluster")
        ->capture_default_str()
        ->check(whole_number_range(1, 16));
    cmd->add_option("--partitions", args->partitions, "Partitions of each topic")
        ->capture_default_str()
        ->check(whole_number_range(1, 1024));
    cmd->add_option("--input-topic", args->input_topic, "Input topic to create")
        ->capture_default_str()
        ->check(topic_name());
    cmd->add_option("--audit-topic", args->audit_topic, "Audit topic to create")->capture_default_str();
    add_topic_options(*cmd, args->topics);
    cmd->add_option("--bootstrap-file", args->bootstrap_file, "Also write the bootstrap address to this file");
    return {cmd, [args] { return run_mock_cluster(*args); }, /*stops_on_signal=*/true};
}

}  // namespace warden::cli
