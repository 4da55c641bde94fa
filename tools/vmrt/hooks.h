#pragma once
// OCI hooks, run on the host by the runtime as runc runs them: each hook's
// path with its args and env (exactly, not the runtime's environment), the
// container's state JSON on stdin, killed at its timeout.
//
// When: createRuntime and prestart once the container exists in its VM
// (state "created"), poststart after start ("running"), poststop after
// delete ("stopped"). createContainer and startContainer hooks belong in the
// container's namespaces, which live inside the guest: they are not run
// (vmrt features lists them as unsupported) and a warning says so.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/oci/spec.h"

namespace vmrt::cli {

enum class HookFailure {
  Fail,  // throw: the operation fails (createRuntime, prestart)
  Warn,  // log and carry on (poststart, poststop)
};

// Runs `hooks` (of kind `kind`, for messages) in order. With Fail, the first
// hook that exits non-zero, is killed or times out throws vmrt::Error naming
// the hook and carrying its stderr.
void run_hooks(const std::vector<oci::Hook>& hooks, const std::string& kind,
               const nlohmann::ordered_json& state, HookFailure on_failure);

// Warns about the hooks of `spec` that vmrt cannot run.
void warn_unsupported_hooks(const oci::Spec& spec);

}  // namespace vmrt::cli
