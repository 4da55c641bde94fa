#pragma once
// Logging setup shared by every binary: spdlog's default logger on stderr,
// tagged with the program name; level from the caller or VMRT_LOG_LEVEL.

#include <spdlog/spdlog.h>

#include <string>

namespace vmrt::logging {

// level: trace|debug|info|warn|error|critical|off; empty means VMRT_LOG_LEVEL
// or "info". Throws vmrt::Error on an unknown level name.
void init(const std::string& program, const std::string& level = "");

}  // namespace vmrt::logging
