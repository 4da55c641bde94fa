#pragma once
// The global flags every vmrt command takes (runc's, plus --config) and what
// commands derive from them.

#include <filesystem>
#include <string>

#include "sandbox/config.h"
#include "tools/vmrt/state_store.h"

namespace vmrt::cli {

struct Globals {
  std::string root = "/run/vmrt";  // state directories
  std::string log;                 // log file; empty: stderr
  std::string log_format = "text";
  bool debug = false;
  std::string config;           // --config or $VMRT_CONFIG; empty: the default path
  bool systemd_cgroup = false;  // accepted for runc compatibility, ignored

  // The runtime configuration: the named file (which must exist) or the
  // default path (which may be absent: built-in defaults).
  sandbox::RuntimeConfig runtime_config() const;
  StateStore store() const { return StateStore(root); }
};

}  // namespace vmrt::cli
