#include "common/log.h"

#include <spdlog/sinks/stdout_sinks.h>

#include <cstdlib>

#include "common/error.h"

namespace vmrt::logging {

void init(const std::string& program, const std::string& level) {
  std::string name = level;
  if (name.empty()) {
    const char* env = std::getenv("VMRT_LOG_LEVEL");
    name = env ? env : "info";
  }
  auto lvl = spdlog::level::from_str(name);
  // from_str maps unknown names to "off"; only "off" itself may mean off.
  if (lvl == spdlog::level::off && name != "off") fail("unknown log level '{}'", name);
  // Thread-safe sink: the VMM logs from its vCPU and device threads.
  spdlog::drop(program);
  auto logger = spdlog::stderr_logger_mt(program);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %n[%P] %^%l%$: %v");
  logger->set_level(lvl);
  spdlog::set_default_logger(logger);
}

}  // namespace vmrt::logging
