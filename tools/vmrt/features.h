#pragma once
// `vmrt features`: the OCI runtime features document (runtime-spec
// features.md: ociVersionMin/Max, hooks, mountOptions, linux.namespaces,
// capabilities, cgroup, seccomp, apparmor, selinux, annotations), stating
// what the guest agent really implements, with the runtime configuration in
// use under the annotation keys "io.vmrt.config.*".

#include <nlohmann/json.hpp>

#include "sandbox/config.h"

namespace vmrt::cli {

nlohmann::json features(const sandbox::RuntimeConfig& config);

}  // namespace vmrt::cli
