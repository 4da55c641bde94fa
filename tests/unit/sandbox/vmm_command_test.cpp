// The VMM's command line: every sandbox setting, the jail, and state
// directories of any depth.

#include "sandbox/vmm_command.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "common/error.h"
#include "common/tempdir.h"
#include "common/unix_socket.h"
#include "sandbox/agent_client.h"
#include "sandbox/file_tail.h"
#include "sandbox/vmm_cgroup.h"

namespace vmrt::sandbox {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

RuntimeConfig config() {
  RuntimeConfig c;
  c.vmm = "/opt/vmrt-vmm";
  c.kernel = "/k/vmlinux";
  c.image = "/k/initramfs";
  c.vcpus = 2;
  c.memory_mib = 512;
  c.fs_cache = "none";
  c.kernel_params = "loglevel=7";
  return c;
}

TEST(VmmCommand, PassesEverySandboxSettingToTheVmm) {
  SandboxPaths p("/run/vmrt/c1");
  auto argv = vmm_argv(config(), p);
  auto value = [&](const std::string& flag) {
    auto it = std::find(argv.begin(), argv.end(), flag);
    return it == argv.end() || it + 1 == argv.end() ? std::string("<missing>") : *(it + 1);
  };
  EXPECT_EQ(argv[0], "/opt/vmrt-vmm");
  EXPECT_EQ(value("--kernel"), "/k/vmlinux");
  EXPECT_EQ(value("--initrd"), "/k/initramfs");
  EXPECT_EQ(value("--cpus"), "2");
  EXPECT_EQ(value("--mem"), "512");
  EXPECT_EQ(value("--vsock-socket"), "/run/vmrt/c1/vm/vm.sock");
  EXPECT_EQ(value("--fs-dir"), "/run/vmrt/c1/shared");
  EXPECT_EQ(value("--fs-cache"), "none");
  EXPECT_EQ(value("--console"), "/run/vmrt/c1/vm/console.log");
  EXPECT_EQ(value("--jail"), "/run/vmrt/c1/jail");
  EXPECT_EQ(value("--jail-uid"), "65534");
  EXPECT_EQ(value("--jail-gid"), "65534");
  EXPECT_EQ(value("--cmdline"),
            "console=ttyS0 reboot=k panic=-1 quiet virtio_net.napi_tx=0 loglevel=7");
}

// Booted at the base size with room up to the operator's maxima: vCPUs
// the guest leaves offline, and a virtio-mem region.
TEST(VmmCommand, TheVmCanGrowToTheOperatorsMaxima) {
  RuntimeConfig c = config();
  c.annotations.max_vcpus = 4;
  c.annotations.max_memory_mib = 4096;
  auto argv = vmm_argv(c, SandboxPaths("/run/vmrt/c1"));
  auto value = [&](const std::string& flag) {
    auto it = std::find(argv.begin(), argv.end(), flag);
    return it == argv.end() || it + 1 == argv.end() ? std::string("<missing>") : *(it + 1);
  };
  EXPECT_EQ(value("--cpus"), "2");
  EXPECT_EQ(value("--max-cpus"), "4");
  EXPECT_EQ(value("--mem"), "512");
  EXPECT_EQ(value("--hotplug-mib"), "3584");
  EXPECT_EQ(value("--control-socket"), "/run/vmrt/c1/vm/control.sock");
  // Without room to grow, no region.
  c.annotations.max_memory_mib = 512;
  argv = vmm_argv(c, SandboxPaths("/run/vmrt/c1"));
  EXPECT_EQ(value("--hotplug-mib"), "0");
}

// A restored VM takes what it runs from the snapshot, and copies its memory
// only when the operator asks for private template memory.
TEST(VmmCommand, ARestoreNamesTheSnapshotAndHowItsMemoryIsHad) {
  RuntimeConfig c = config();
  auto argv = vmm_argv(c, SandboxPaths("/run/vmrt/c1"), "/run/vmrt-templates/t");
  auto has = [&](const std::string& flag) {
    return std::find(argv.begin(), argv.end(), flag) != argv.end();
  };
  EXPECT_EQ(argv[1], "--restore");
  EXPECT_EQ(argv[2], "/run/vmrt-templates/t");
  EXPECT_FALSE(has("--kernel"));
  EXPECT_FALSE(has("--restore-copy"));
  c.template_memory = "private";
  argv = vmm_argv(c, SandboxPaths("/run/vmrt/c1"), "/run/vmrt-templates/t");
  EXPECT_EQ(argv[3], "--restore-copy");
  EXPECT_TRUE(has("--vsock-socket"));
  // A boot has nothing to copy.
  argv = vmm_argv(c, SandboxPaths("/run/vmrt/c1"));
  EXPECT_FALSE(has("--restore-copy"));
}

TEST(VmmCommand, NoJailWhenTurnedOff) {
  RuntimeConfig c = config();
  c.jail = false;
  auto argv = vmm_argv(c, SandboxPaths("/run/vmrt/c1"));
  EXPECT_EQ(std::find(argv.begin(), argv.end(), "--jail"), argv.end());
}

// A 64-hex id (Docker's) under a 60-byte state root: the VM's sockets lie
// past sun_path's 108 bytes and still work, under their real paths (common/
// unix_socket.h reaches them through their directory).
TEST(VmmCommand, AStateDirectoryOfAnyDepthWorks) {
  TempDir tmp("vmrt-deep");
  std::filesystem::path root = tmp.path() / "r";
  root += std::string(60 - root.native().size(), 'r');
  ASSERT_EQ(root.native().size(), 60u);
  SandboxPaths p(root / std::string(64, 'e'));
  auto argv = vmm_argv(config(), p);
  auto socket = std::find(argv.begin(), argv.end(), "--vsock-socket");
  ASSERT_NE(socket, argv.end());
  EXPECT_EQ(*(socket + 1), p.vm_socket().string());
  std::filesystem::create_directories(p.vm_dir());
  for (const std::string name : {p.vm_socket().string(), p.vm_socket().string() + "_1024"}) {
    ASSERT_GT(name.size(), 108u);
    UniqueFd listener = listen_unix(name);
    UniqueFd client = connect_unix(name);
    EXPECT_TRUE(accept_unix(listener.get()).valid()) << name;
  }
}

}  // namespace
}  // namespace vmrt::sandbox
