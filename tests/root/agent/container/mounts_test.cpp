// The container's filesystem view, checked from inside: the spec's mounts,
// sysctls, tmpcopyup, masked paths and devices, bind options, the overlay
// root and a read-only root.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "agent/container/container.h"
#include "common/error.h"
#include "tests/root/agent/container/bundle.h"
#include "tests/root/agent/container/container_fixture.h"
#include "tests/support/error_text.h"

namespace vmrt::agent {
namespace {

using namespace container_test;

TEST_F(ContainerTest, Mounts) {
  Run r = sh("awk '{print $2, $3, substr($4, 1, 2)}' /proc/self/mounts");
  ASSERT_TRUE(r.status.success()) << r.err;
  for (const char* line : {"/ ", "/proc proc rw", "/dev tmpfs rw", "/dev/pts devpts rw",
                           "/dev/shm tmpfs rw", "/dev/mqueue mqueue rw", "/sys sysfs ro",
                           "/proc/sys proc ro", "/proc/keys tmpfs", "/sys/firmware tmpfs ro"})
    EXPECT_NE(r.out.find(line), std::string::npos) << line << " in\n" << r.out;
  // root.readonly
  EXPECT_NE(r.out.find("/ "), std::string::npos);
  Run ro =
      sh("touch /x 2>&1; echo $?; grep ' / ' /proc/self/mounts | awk '{print substr($4,1,2)}'");
  EXPECT_NE(ro.out.find("Read-only file system"), std::string::npos) << ro.out;
}

// podman's default spec sets net.ipv4.ping_group_range and makes /proc/sys
// read-only: as runc does, the sysctls are written before readonlyPaths apply.
TEST_F(ContainerTest, SysctlsAreWrittenBeforeProcSysIsReadOnly) {
  bundle.config["linux"]["sysctl"] = {{"net.ipv4.ping_group_range", "0 2147483647"},
                                      {"kernel.domainname", "example.org"}};
  Run r =
      sh("cat /proc/sys/net/ipv4/ping_group_range /proc/sys/kernel/domainname; "
         "grep ' /proc/sys ' /proc/self/mounts | awk '{print substr($4, 1, 2)}'");
  ASSERT_TRUE(r.status.success()) << r.status.to_string() << r.err;
  EXPECT_EQ(r.out, "0\t2147483647\nexample.org\nro\n");
}

// podman's --tmpfs: the tmpfs starts with a copy of what it covers, owners,
// modes and links kept, and what is written there stays out of the rootfs.
TEST_F(ContainerTest, ATmpcopyupTmpfsStartsWithACopyOfTheDirectoryItCovers) {
  fs::path run = bundle.rootfs() / "run";
  fs::create_directories(run / "sub");
  std::ofstream(run / "sub" / "f") << "from the image\n";
  fs::permissions(run / "sub", fs::perms::owner_all | fs::perms::group_read);
  ASSERT_EQ(::chown((run / "sub" / "f").c_str(), 1000, 1001), 0);
  fs::create_symlink("sub/f", run / "link");
  bundle.config["mounts"].push_back({{"destination", "/run"},
                                     {"type", "tmpfs"},
                                     {"source", "tmpfs"},
                                     {"options", {"nosuid", "nodev", "tmpcopyup"}}});
  Run r =
      sh("cat /run/link; stat -c '%a %u %g' /run/sub /run/sub/f; "
         "grep ' /run ' /proc/self/mounts | awk '{print $3}'; echo new > /run/new");
  ASSERT_TRUE(r.status.success()) << r.status.to_string() << r.err;
  EXPECT_EQ(r.out, "from the image\n740 0 0\n644 1000 1001\ntmpfs\n");
  EXPECT_FALSE(fs::exists(run / "new"));
}

TEST_F(ContainerTest, MaskedAndDevices) {
  Run r = sh(
      "wc -c < /proc/keys; ls /sys/firmware | wc -l; ls /dev | grep -v core | tr '\\n' ' '; echo; "
      "readlink /dev/ptmx; readlink /dev/fd; echo x > /dev/null && head -c 4 /dev/zero | wc -c");
  ASSERT_TRUE(r.status.success()) << r.err;
  EXPECT_EQ(r.out,
            "0\n0\n"
            "fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero \n"
            "pts/ptmx\n/proc/self/fd\n4\n");
}

// A privileged pod's spec lists host devices in directories /dev lacks.
TEST_F(ContainerTest, DeviceInAMissingDirectory) {
  bundle.config["linux"]["devices"].push_back(
      {{"path", "/dev/input/mice"}, {"type", "c"}, {"major", 13}, {"minor", 63}});
  Run r = sh("stat -c '%F %t:%T' /dev/input/mice");
  ASSERT_TRUE(r.status.success()) << r.err;
  EXPECT_EQ(r.out, "character special file d:3f\n");
}

TEST_F(ContainerTest, BindMountWithOptions) {
  fs::create_directories(bundle.dir() / "data");
  std::ofstream(bundle.dir() / "data" / "f") << "shared\n";
  bundle.config["mounts"].push_back({{"destination", "/mnt/data"},
                                     {"type", "bind"},
                                     {"source", "data"},
                                     {"options", {"rbind", "ro", "nosuid", "rprivate"}}});
  Run r =
      sh("cat /mnt/data/f; touch /mnt/data/g 2>&1 >/dev/null | grep -c Read-only; "
         "grep ' /mnt/data ' /proc/self/mounts | awk '{print $4}'");
  ASSERT_TRUE(r.status.success()) << r.err;
  EXPECT_EQ(r.out.substr(0, 9), "shared\n1\n");
  EXPECT_NE(r.out.find("ro,nosuid"), std::string::npos) << r.out;
}

TEST_F(ContainerTest, OverlayRootKeepsTheRootfsClean) {
  bundle.config["root"]["readonly"] = false;
  Run r = run({"sh", "-c", "echo hi > /newfile && cat /newfile && rm /bin/true && echo ok"}, true);
  EXPECT_TRUE(r.status.success()) << r.err;
  EXPECT_EQ(r.out, "hi\nok\n");
  EXPECT_FALSE(fs::exists(bundle.rootfs() / "newfile"));
  EXPECT_TRUE(fs::is_symlink(bundle.rootfs() / "bin" / "true"));
}

// The rootfs read-only underneath, as the host shares it for root.readonly:
// a bind's mount point that the image lacks goes to the overlay's upper
// layer, and the container's root is read-only all the same.
TEST_F(ContainerTest, ReadOnlyRootOnAnOverlayOverAReadOnlyRootfs) {
  struct ReadOnlyBind {
    fs::path path;
    explicit ReadOnlyBind(fs::path p) : path(std::move(p)) {
      check_sys(::mount(path.c_str(), path.c_str(), nullptr, MS_BIND | MS_REC, nullptr), "bind");
      check_sys(::mount(nullptr, path.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr),
                "remount read-only");
    }
    ~ReadOnlyBind() { ::umount2(path.c_str(), MNT_DETACH); }
  } ro_rootfs(bundle.rootfs());
  fs::create_directories(bundle.dir() / "data");
  std::ofstream(bundle.dir() / "data" / "f") << "volume\n";
  bundle.config["mounts"].push_back({{"destination", "/not/in/image"},
                                     {"type", "bind"},
                                     {"source", "data"},
                                     {"options", {"rbind", "ro"}}});
  Run r = run({"sh", "-c", "cat /not/in/image/f; touch /x 2>&1 | grep -c Read-only"}, true);
  EXPECT_TRUE(r.status.success()) << r.err;
  EXPECT_EQ(r.out, "volume\n1\n");
  EXPECT_FALSE(fs::exists(bundle.rootfs() / "not"));
}

}  // namespace
}  // namespace vmrt::agent
