#include "tools/vmrt/hooks.h"

#include <spdlog/spdlog.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fd.h"
#include "common/fd_io.h"
#include "common/process.h"

namespace vmrt::cli {
namespace {

using namespace std::chrono_literals;

// Hooks without a timeout still may not hang the runtime forever.
constexpr auto kDefaultHookTimeout = 120s;

// The state as a file the hook reads from the start: a pipe could fill up
// before the hook reads, and a hook that never reads must not block us.
UniqueFd state_input(const nlohmann::ordered_json& state) {
  UniqueFd fd(check_sys(::memfd_create("oci-state", MFD_CLOEXEC), "memfd_create"));
  write_all(fd.get(), state.dump());
  check_sys(::lseek(fd.get(), 0, SEEK_SET), "lseek");
  return fd;
}

void run_one(const oci::Hook& hook, const std::string& name, const nlohmann::ordered_json& state) {
  std::vector<std::string> argv = hook.args;
  if (argv.empty()) argv.push_back(hook.path);
  UniqueFd in = state_input(state);
  SpawnOptions o;
  o.program = hook.path;
  o.clean_env = true;
  o.extra_env = hook.env;
  o.in = Stdio::to_fd(in.get());
  auto timeout = hook.timeout ? std::chrono::milliseconds(std::chrono::seconds(*hook.timeout))
                              : std::chrono::milliseconds(kDefaultHookTimeout);
  RunResult r = run_capture(argv, timeout, o);
  if (r.timed_out)
    fail("{} ({}) did not finish within {} s", name, hook.path,
         std::chrono::duration_cast<std::chrono::seconds>(timeout).count());
  if (!r.status.success())
    fail("{} ({}) {}{}{}", name, hook.path, r.status.to_string(), r.err.empty() ? "" : ": ", r.err);
}

}  // namespace

void run_hooks(const std::vector<oci::Hook>& hooks, const std::string& kind,
               const nlohmann::ordered_json& state, HookFailure on_failure) {
  for (size_t i = 0; i < hooks.size(); ++i) {
    std::string name = fmt::format("{} hook {}", kind, i);
    try {
      run_one(hooks[i], name, state);
    } catch (const Error& e) {
      if (on_failure == HookFailure::Fail) throw;
      spdlog::warn("{}", e.what());
    }
  }
}

void warn_unsupported_hooks(const oci::Spec& spec) {
  if (!spec.hooks.create_container.empty() || !spec.hooks.start_container.empty())
    spdlog::warn(
        "createContainer and startContainer hooks are not run: they belong in the container's "
        "namespaces, which are inside the sandbox VM");
}

}  // namespace vmrt::cli
