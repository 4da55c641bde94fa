#include "tools/vmrt/globals.h"

namespace vmrt::cli {

sandbox::RuntimeConfig Globals::runtime_config() const {
  if (!config.empty()) return sandbox::load_config(config, true);
  return sandbox::load_config(sandbox::kDefaultConfigPath, false);
}

}  // namespace vmrt::cli
