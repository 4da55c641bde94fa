#include "tools/vmrt/globals.h"

namespace vmrt::cli {

sandbox::RuntimeConfig Globals::runtime_config() const {
  return sandbox::load_runtime_config(config);
}

}  // namespace vmrt::cli
