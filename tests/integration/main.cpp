// Runs the Kafka integration tests: `kafka_integration_tests PATH-OF-WARDEN [doctest options]`.
// WARDEN_ITEST_KEEP=1 keeps the workers' logs (their directories are printed).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "kafka_test_support.hpp"

#include <warden/log.hpp>

#include <cstdio>

int main(int argc, char** argv) {
    if (argc < 2 || argv[1][0] == '-') {
        std::fprintf(stderr, "usage: %s PATH-OF-WARDEN [doctest options]\n", argv[0]);
        return 2;
    }
    // Workers run a copy, so a rebuild during the run cannot replace the binary under test.
    itest::TempDir binary_dir;
    const std::filesystem::path binary = binary_dir.path() / "warden";
    std::filesystem::copy_file(argv[1], binary);
    itest::warden_path = binary.string();

    // The test's own clients log through warden's logger; connection errors during injected
    // broker outages are expected.
    warden::log::set_min_level(warden::log::Level::error);
    doctest::Context context;
    context.applyCommandLine(argc - 1, argv + 1);
    return context.run();
}
