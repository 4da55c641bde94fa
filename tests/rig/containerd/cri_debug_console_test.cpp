// `vmrt debug-console POD` for a pod of the containerd shim (CRI): the CLI
// finds the pod's VM where the shim records it, and the guest's agent opens
// a root shell outside every container, only where both the operator's
// configuration and the pod's sandbox allow it:
// - runtime handler `vmrt` (the build's configuration, no [debug] table):
//   the agent refuses, even when the CLI's configuration allows it;
// - handler `vmrtdebug` ([debug] console = true, the debug image with a
//   shell): the CLI refuses with its default configuration, and with the
//   console on, the shell sees the guest (pid 1 is the agent).

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/fd.h"
#include "common/process.h"
#include "tests/rig/containerd/containerd_harness.h"
#include "tests/rig/containerd/cri_fixture.h"
#include "tests/rig/containerd/pod_guard.h"
#include "tools/cri/cri_client.h"

namespace vmrt::containerd_test {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

// Builtins only: the debug image's /bin/sh is busybox with no applets.
constexpr const char* kScript =
    "read comm < /proc/1/comm; echo pid1=$comm\n"
    "test -x /init && echo guest-init-here\n";

class CriDebugConsoleTest : public CriFixture {
 protected:
  static void SetUpTestSuite() {
    Containerd::Options o;
    o.vmrt_variants = {
        {"vmrtdebug", fmt::format("image = \"{}\"\ntemplate = false\n[debug]\nconsole = true",
                                  VMRT_DEBUG_IMAGE)}};
    start_containerd(o);
  }

  // `vmrt debug-console id` with `config`, the shim's pods root and an
  // empty CLI state root (so that only the shim's pods can match), fed
  // kScript on stdin.
  RunResult debug_console(const std::string& id, const fs::path& config) {
    fs::path script = containerd_->dir() / "debug-console-script";
    std::ofstream(script) << kScript;
    UniqueFd in(::open(script.c_str(), O_RDONLY | O_CLOEXEC));
    SpawnOptions o;
    o.extra_env = {"VMRT_SHIM_ROOT=" + containerd_->shim_root().string()};
    o.in = Stdio::to_fd(in.get());
    return run_capture({VMRT_CLI, "--root", (containerd_->dir() / "no-cli").string(), "--config",
                        config.string(), "debug-console", id},
                       120s, o);
  }

  std::string sleeping_pod(const std::string& name, const std::string& handler) {
    cri::v1::PodSandboxConfig p = pod_config(name, cri::v1::NODE);
    std::string pod_id = client_->run_pod_sandbox(p, handler);
    start_container(pod_id, p, "sleeper", {"sleep", "3600"});
    return pod_id;
  }
};

TEST_F(CriDebugConsoleTest, TheAgentRefusesWhereThePodsConfigurationDoesNotAllowIt) {
  std::string pod_id = sleeping_pod("no-debug", "vmrt");
  cri::PodGuard guard(*client_, pod_id);
  RunResult r = debug_console(pod_id, containerd_->vmrt_config("vmrtdebug"));
  EXPECT_EQ(r.status.code, 1) << r.status.to_string() << "\n" << r.err;
  EXPECT_THAT(r.err, HasSubstr("debug console is off in this sandbox"));
  EXPECT_THAT(r.out, Not(HasSubstr("pid1=")));
  guard.remove();
}

TEST_F(CriDebugConsoleTest, OpensAShellInThePodsGuestWhereAllowed) {
  std::string pod_id = sleeping_pod("debug", "vmrtdebug");
  cri::PodGuard guard(*client_, pod_id);

  // The CLI's own configuration (the build's) has it off.
  RunResult r = debug_console(pod_id, VMRT_DEV_CONFIG);
  EXPECT_EQ(r.status.code, 1) << r.status.to_string() << "\n" << r.err;
  EXPECT_THAT(r.err, HasSubstr("the debug console is off"));

  r = debug_console(pod_id, containerd_->vmrt_config("vmrtdebug"));
  EXPECT_TRUE(r.status.success()) << r.status.to_string() << "\n" << r.err;
  EXPECT_THAT(r.out, HasSubstr("pid1=init\n")) << "the guest's pid namespace";
  EXPECT_THAT(r.out, HasSubstr("guest-init-here\n")) << "the guest's root";

  // A pod id that no shim runs is an error naming it.
  r = debug_console("0123456789abcdef", containerd_->vmrt_config("vmrtdebug"));
  EXPECT_EQ(r.status.code, 1) << r.status.to_string();
  EXPECT_THAT(r.err, HasSubstr("0123456789abcdef"));
  guard.remove();
}

}  // namespace
}  // namespace vmrt::containerd_test
