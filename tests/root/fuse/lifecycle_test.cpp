// vmrt-fs-mount's life: it unmounts on SIGTERM (also with files open in the
// mount), ends when unmounted from outside, leaves no mount and no process;
// host changes reach the client in cache modes none and auto; a mount point
// inside the shared tree is served.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "common/tempdir.h"
#include "tests/root/fuse/fuse_mount.h"

namespace vmrt::fuse {
namespace {

using namespace std::chrono_literals;

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), {}};
}

struct Dirs {
  TempDir base{"fuse-life"};
  std::filesystem::path shared = base.path() / "shared", mnt = base.path() / "mnt";
  Dirs() {
    std::filesystem::create_directory(shared);
    std::filesystem::create_directory(mnt);
  }
};

TEST(FuseLifecycle, SigtermUnmountsEvenWhileBusy) {
  Dirs d;
  test::FuseMount mount(d.shared, d.mnt);
  pid_t pid = mount.pid();
  int fd = ::open((d.mnt / "open-file").c_str(), O_CREAT | O_RDWR, 0600);
  ASSERT_GE(fd, 0);
  auto st = mount.stop();
  EXPECT_TRUE(st.success()) << st.to_string();
  EXPECT_FALSE(test::mounted(d.mnt));
  EXPECT_NE(kill(pid, 0), 0) << "no process left";
  // The detached tree's connection is gone: no hang, an error.
  EXPECT_LT(::write(fd, "x", 1), 0);
  close(fd);
}

TEST(FuseLifecycle, UnmountFromOutsideEndsTheServer) {
  Dirs d;
  test::FuseMount mount(d.shared, d.mnt);
  ASSERT_EQ(umount(d.mnt.c_str()), 0);
  auto st = mount.wait_exit(10s);
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->success()) << st->to_string();
  EXPECT_FALSE(test::mounted(d.mnt));
}

TEST(FuseLifecycle, HostChangesAreSeenInCacheModesNoneAndAuto) {
  for (auto [mode, wait] : {std::pair{"none", 0ms}, std::pair{"auto", 1100ms}}) {
    Dirs d;
    std::ofstream(d.shared / "f") << "one";
    test::FuseMount mount(d.shared, d.mnt, mode);
    EXPECT_EQ(slurp(d.mnt / "f"), "one");
    std::this_thread::sleep_for(1100ms);  // a new mtime second
    std::ofstream(d.shared / "f") << "two, longer";
    std::ofstream(d.shared / "g") << "new";
    std::this_thread::sleep_for(wait);
    EXPECT_EQ(slurp(d.mnt / "f"), "two, longer") << mode;
    EXPECT_EQ(slurp(d.mnt / "g"), "new") << mode;
    std::filesystem::remove(d.shared / "g");
    std::this_thread::sleep_for(wait);
    EXPECT_FALSE(std::filesystem::exists(d.mnt / "g")) << mode;
  }
}

TEST(FuseLifecycle, MountPointsInsideTheShareAreServed) {
  Dirs d;
  std::filesystem::create_directory(d.shared / "rootfs");
  ASSERT_EQ(mount("tmpfs", (d.shared / "rootfs").c_str(), "tmpfs", 0, "size=4m"), 0);
  struct Unmount {
    std::filesystem::path p;
    ~Unmount() { umount2(p.c_str(), MNT_DETACH); }
  } cleanup{d.shared / "rootfs"};
  std::ofstream(d.shared / "rootfs/inner") << "on tmpfs";
  {
    test::FuseMount mount(d.shared, d.mnt);
    EXPECT_EQ(slurp(d.mnt / "rootfs/inner"), "on tmpfs");
    std::ofstream(d.mnt / "rootfs/written") << "through fuse";
    EXPECT_EQ(slurp(d.shared / "rootfs/written"), "through fuse");
    EXPECT_TRUE(mount.stop().success());
  }
  // The file landed on the tmpfs, not under it.
  ASSERT_EQ(umount2((d.shared / "rootfs").c_str(), 0), 0);
  EXPECT_FALSE(std::filesystem::exists(d.shared / "rootfs/written"));
}

}  // namespace
}  // namespace vmrt::fuse
