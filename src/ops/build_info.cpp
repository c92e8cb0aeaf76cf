#include <warden/build_info.hpp>

#include "warden_version.hpp"

#include <librdkafka/rdkafka.h>

namespace warden {

BuildInfo build_info() { return {WARDEN_VERSION, rd_kafka_version_str()}; }

}  // namespace warden
