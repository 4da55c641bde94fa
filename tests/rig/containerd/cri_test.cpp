// Kubernetes' path into vmrt: containerd's CRI plugin with the runtime
// handler `vmrt`, driven as kubelet does (the project's CRI client). A pod
// with two containers must run in exactly one VM, answer ExecSync and
// ContainerStats, and leave no VM, shim, mount or socket after removal.
// The same pod under `runc` is the reference for the answers.

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "tests/rig/containerd/containerd_harness.h"
#include "tests/rig/containerd/cri_fixture.h"
#include "tests/rig/containerd/pod_guard.h"
#include "tests/rig/support/host_state.h"
#include "tools/cri/cri_client.h"
#include "tools/cri/cri_config.h"

namespace vmrt::containerd_test {
namespace {

using ::testing::IsEmpty;
using namespace std::chrono_literals;
namespace v1 = cri::v1;

std::string host_boot_id() {
  std::string id;
  std::getline(std::ifstream("/proc/sys/kernel/random/boot_id"), id);
  return id;
}

int processes_named(const std::string& program) {
  return static_cast<int>(test::processes_named(program).size());
}
int vmm_count() { return static_cast<int>(test::vmm_processes().size()); }

class CriTest : public CriFixture {
 protected:
  static void SetUpTestSuite() { start_containerd(); }

  // Host network: the pod networking test is cri_network_test.
  v1::PodSandboxConfig pod_config(const std::string& name) {
    return CriFixture::pod_config(name, v1::NODE);
  }
  std::string start_container(const std::string& pod_id, const v1::PodSandboxConfig& pod,
                              const std::string& name) {
    return CriFixture::start_container(pod_id, pod, name, {"sleep", "3600"});
  }
};

TEST_P(CriTest, TwoContainersInOnePodShareOneVm) {
  const bool vmrt = GetParam() == "vmrt";
  const int vmms_before = vmm_count();
  v1::PodSandboxConfig pod = pod_config("pod-" + GetParam());
  std::string pod_id = client_->run_pod_sandbox(pod, GetParam());
  ASSERT_FALSE(pod_id.empty());
  cri::PodGuard guard(*client_, pod_id);
  EXPECT_EQ(client_->pod_sandbox_status(pod_id).status().state(), v1::SANDBOX_READY);

  std::string a = start_container(pod_id, pod, "a");
  std::string b = start_container(pod_id, pod, "b");
  EXPECT_EQ(client_->container_status(a).status().state(), v1::CONTAINER_RUNNING);
  EXPECT_EQ(client_->container_status(b).status().state(), v1::CONTAINER_RUNNING);

  // One kernel for both containers: the pod's VM (with runc: the host's).
  auto boot_a = client_->exec_sync(a, {"cat", "/proc/sys/kernel/random/boot_id"}, 60s);
  auto boot_b = client_->exec_sync(b, {"cat", "/proc/sys/kernel/random/boot_id"}, 60s);
  ASSERT_EQ(boot_a.exit_code(), 0) << boot_a.stderr();
  EXPECT_EQ(boot_a.stdout(), boot_b.stdout());
  if (vmrt) {
    EXPECT_NE(boot_a.stdout(), host_boot_id() + "\n");
    EXPECT_EQ(vmm_count(), vmms_before + 1) << "one VM for the whole pod";
    EXPECT_EQ(processes_named("/containerd-shim-vmrt-v1"), 1) << "one shim for the whole pod";
  } else {
    EXPECT_EQ(boot_a.stdout(), host_boot_id() + "\n");
  }

  // The containers share the pod's UTS and IPC namespaces (the sandbox's);
  // the pod's /etc/hostname (a host file containerd bind-mounts) is there.
  auto host_a = client_->exec_sync(a, {"/bin/busybox", "readlink", "/proc/self/ns/uts"}, 60s);
  auto host_b = client_->exec_sync(b, {"/bin/busybox", "readlink", "/proc/self/ns/uts"}, 60s);
  EXPECT_EQ(host_a.stdout(), host_b.stdout());
  auto ipc_a = client_->exec_sync(a, {"/bin/busybox", "readlink", "/proc/self/ns/ipc"}, 60s);
  auto ipc_b = client_->exec_sync(b, {"/bin/busybox", "readlink", "/proc/self/ns/ipc"}, 60s);
  EXPECT_EQ(ipc_a.stdout(), ipc_b.stdout());
  // (runc's exec cannot find the container's files in the rig: in_a_chroot().)
  if (GetParam() == "vmrt" || !vmrt::test::in_a_chroot()) {
    auto hostname = client_->exec_sync(a, {"cat", "/etc/hostname"}, 60s);
    EXPECT_EQ(hostname.exit_code(), 0) << hostname.stderr();
    EXPECT_FALSE(hostname.stdout().empty());
  }

  // ExecSync carries output, error output and the exit code.
  auto r = client_->exec_sync(a, {"sh", "-c", "echo out; echo err >&2; exit 3"}, 60s);
  EXPECT_EQ(r.stdout(), "out\n");
  EXPECT_EQ(r.stderr(), "err\n");
  EXPECT_EQ(r.exit_code(), 3);

  // Stats: the container's cgroup (the guest's, under vmrt).
  client_->exec_sync(a, {"sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done"}, 120s);
  v1::ContainerStats s = client_->container_stats(a);
  EXPECT_EQ(s.attributes().id(), a);
  EXPECT_GT(s.cpu().usage_core_nano_seconds().value(), 0u);
  EXPECT_GT(s.memory().working_set_bytes().value(), 0u);

  guard.remove();
  EXPECT_EQ(vmm_count(), vmms_before) << "the pod's VM is gone";
}

INSTANTIATE_TEST_SUITE_P(Runtimes, CriTest, ::testing::Values("runc", "vmrt"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace vmrt::containerd_test
