// What the binary reports about itself: `warden --version` and the warden_build_info metric.
#include <warden/build_info.hpp>
#include <warden/ops.hpp>

#include <doctest/doctest.h>

TEST_CASE("build info: the metric carries warden's and librdkafka's versions") {
    const warden::BuildInfo build = warden::build_info();
    CHECK_FALSE(build.version.empty());
    CHECK(build.librdkafka.find('.') != std::string::npos);
    const std::string text = warden::render_metrics(warden::WorkerStats{}, warden::MetricsContext{});
    const std::string line =
        "warden_build_info{version=\"" + build.version + "\",librdkafka=\"" + build.librdkafka + "\"} 1";
    CHECK(text.find(line) != std::string::npos);
    CHECK(text.find("# TYPE warden_build_info gauge") != std::string::npos);
}
