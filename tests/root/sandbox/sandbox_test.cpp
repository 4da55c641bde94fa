// A share mount that cannot be unmounted when a sandbox stops: an error that
// names the mount and keeps the directory around it, never a log line
// followed by a recursive delete through the mount into the host's files.

#include "sandbox/sandbox.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <optional>

#include "common/tempdir.h"
#include "sandbox/share_mount.h"
#include "tests/support/error_text.h"
#include "tests/support/private_mounts.h"

namespace vmrt::sandbox {
namespace {

namespace fs = std::filesystem;
using test::error_text;
using test::read_file;
using test::write_file;
using ::testing::HasSubstr;

// This thread without CAP_SYS_ADMIN in its effective set (capabilities are
// per thread) while it lives: its unmounts fail with EPERM, the shape of any
// unmount failure. Kept in the permitted set, so it comes back.
class WithoutSysAdmin {
 public:
  WithoutSysAdmin() { set(false); }
  ~WithoutSysAdmin() { set(true); }

 private:
  static void set(bool on) {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
    if (::syscall(SYS_capget, &header, data) < 0) throw_errno("capget");
    uint32_t bit = 1u << (CAP_SYS_ADMIN % 32);
    auto& effective = data[CAP_SYS_ADMIN / 32].effective;
    effective = on ? effective | bit : effective & ~bit;
    if (::syscall(SYS_capset, &header, data) < 0) throw_errno("capset");
  }
};

class SandboxStopMounts : public test::PrivateMounts {
 protected:
  void SetUp() override {
    PrivateMounts::SetUp();
    fs::create_directories(rootfs / "etc");
    write_file(rootfs / "etc/keep", "the container's files");
    fs::create_directories(sandbox_dir);
  }

  TempDir dir{"vmrt-stop"};
  fs::path rootfs = dir.path() / "rootfs";   // a container's rootfs on the host
  fs::path sandbox_dir = dir.path() / "sb";  // the sandbox's directory
};

TEST_F(SandboxStopMounts, AFailedUnmountIsAnErrorAndTheMountPointStays) {
  fs::path target = sandbox_dir / "shared/c1/rootfs";
  std::optional<ShareMount> m;
  m.emplace(rootfs, target);
  ASSERT_EQ(read_file(target / "etc/keep"), "the container's files");
  std::string error;
  {
    WithoutSysAdmin no_admin;
    error = error_text([&] { m->unmount(); });
  }
  EXPECT_EQ(error, "unmount " + target.string() + ": Operation not permitted");
  EXPECT_TRUE(m->target().empty()) << "reported once, owned no longer";
  m.reset();  // nothing left to do: no second attempt, no removal
  EXPECT_EQ(read_file(target / "etc/keep"), "the container's files") << "the mount went";
  // What removing the sandbox directory then meets: the mount, not the files.
  EXPECT_THAT(error_text([&] { remove_tree(sandbox_dir); }),
              HasSubstr(target.string() + " is a mount point"));
  EXPECT_EQ(read_file(rootfs / "etc/keep"), "the container's files");
  ASSERT_EQ(::umount2(target.c_str(), MNT_DETACH), 0);
}

// Sandbox::stop itself: a VMM stand-in that takes the share's mount away
// (as anything else in the namespace could) and exits. The start fails, and
// its error says the unmount failed and the directory must be kept.
TEST_F(SandboxStopMounts, StopReportsTheMountItCouldNotRemove) {
  SandboxOptions o;
  o.id = "t";
  o.dir = sandbox_dir;
  o.config = default_config();
  o.config.cgroup_parent = "";  // no cgroup: nothing of the host's to clean
  o.config.boot_timeout = std::chrono::seconds(30);
  fs::path shared = sandbox_dir / "shared";
  o.config.vmm = dir.path() / "fake-vmm";
  write_file(o.config.vmm, "#!/bin/sh\numount -l " + shared.string() + " || exit 9\nexit 3\n");
  ASSERT_EQ(::chmod(o.config.vmm.c_str(), 0755), 0);

  std::string error;
  try {
    Sandbox::start(std::move(o));
  } catch (const MountsLeft& e) {  // what tells the caller to keep the directory
    error = e.what();
  }
  EXPECT_THAT(error, HasSubstr("sandbox t: vmrt-vmm exited with status 3 before the guest agent"));
  EXPECT_THAT(error, HasSubstr("sandbox t: unmount " + shared.string() + ": Invalid argument"));
  EXPECT_THAT(error, HasSubstr("its directory " + sandbox_dir.string() + " must be kept"));
  EXPECT_TRUE(fs::is_directory(shared)) << "the share's mount point was removed anyway";
}

}  // namespace
}  // namespace vmrt::sandbox
