// build_info: what this binary is, for `warden --version` and the warden_build_info metric.
#pragma once

#include <string>

namespace warden {

struct BuildInfo {
    std::string version;     // warden's, from the meson project version
    std::string librdkafka;  // the librdkafka loaded at run time
};

BuildInfo build_info();

}  // namespace warden
