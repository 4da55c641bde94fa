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
#include "tests/root/vmm/fuse/fuse_mount.h"

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

namespace vmrt::fuse {
namespace {

TEST(FuseLifecycle, InodeNumbersStayUniqueAcrossMountsInTheShare) {
  Dirs d;
  struct Tmpfs {
    std::filesystem::path p;
    explicit Tmpfs(std::filesystem::path at) : p(std::move(at)) {
      std::filesystem::create_directory(p);
      if (mount("tmpfs", p.c_str(), "tmpfs", 0, "size=1m") != 0) p.clear();
    }
    ~Tmpfs() {
      if (!p.empty()) umount2(p.c_str(), MNT_DETACH);
    }
  } a(d.shared / "a"), b(d.shared / "b");
  ASSERT_FALSE(a.p.empty() || b.p.empty());
  std::ofstream(a.p / "f") << "a";
  std::ofstream(b.p / "f") << "b";
  struct stat ha, hb, fa, fb;
  ASSERT_EQ(stat((a.p / "f").c_str(), &ha), 0);
  ASSERT_EQ(stat((b.p / "f").c_str(), &hb), 0);
  test::FuseMount mount(d.shared, d.mnt, "none");
  ASSERT_EQ(stat((d.mnt / "a/f").c_str(), &fa), 0);
  ASSERT_EQ(stat((d.mnt / "b/f").c_str(), &fb), 0);
  EXPECT_EQ(fa.st_dev, fb.st_dev) << "one file system for the client";
  EXPECT_NE(fa.st_ino, fb.st_ino) << "host inode numbers " << ha.st_ino << " and " << hb.st_ino;
  EXPECT_EQ(slurp(d.mnt / "a/f"), "a");
  EXPECT_EQ(slurp(d.mnt / "b/f"), "b");
  // Files on the share's own file system keep their host numbers.
  std::ofstream(d.shared / "top") << "t";
  struct stat ht, ft;
  ASSERT_EQ(stat((d.shared / "top").c_str(), &ht), 0);
  ASSERT_EQ(stat((d.mnt / "top").c_str(), &ft), 0);
  EXPECT_EQ(ht.st_ino, ft.st_ino);
}

}  // namespace
}  // namespace vmrt::fuse
