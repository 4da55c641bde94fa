// The guest's root against the share's host side: a vmrt-fs-mount serves a
// shared directory laid out as a sandbox's (a read-only rootfs, a "ro" bind,
// a writable bind of a tmpfs), and the test, as root through the host
// kernel's FUSE client, writes what the spec made read-only, asks for device
// nodes and plants a setuid-root binary.
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <fstream>
#include <optional>

#include "common/error.h"
#include "common/fd.h"
#include "common/tempdir.h"
#include "sandbox/sandbox.h"
#include "sandbox/share_mount.h"
#include "tests/root/vmm/fuse/fuse_mount.h"

namespace vmrt::fuse {
namespace {

namespace fs = std::filesystem;
using sandbox::ShareMount;
using sandbox::ShareMountOptions;

constexpr uid_t kNobody = 65534;

std::string err(int rc) { return rc < 0 ? strerrorname_np(errno) : "ok"; }

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), {}};
}

// What `path ARGS` prints when run as uid/gid 65534 without groups.
std::string run_as_nobody(const fs::path& path, const char* arg) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return "pipe failed";
  UniqueFd out(p[0]);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(p[1], 1);
    if (::setgroups(0, nullptr) == 0 && ::setgid(kNobody) == 0 && ::setuid(kNobody) == 0)
      ::execl(path.c_str(), path.c_str(), arg, nullptr);
    _exit(127);
  }
  ::close(p[1]);
  std::string text;
  char buf[256];
  for (ssize_t n; (n = ::read(out.get(), buf, sizeof buf)) > 0;)
    text.append(buf, static_cast<size_t>(n));
  int status = 0;
  ::waitpid(pid, &status, 0);
  return text;
}

struct GuestRoot : ::testing::Test {
  TempDir base{"fuse-guest-root"};
  fs::path shared = base.path() / "shared", mnt = base.path() / "mnt",
           rootfs = base.path() / "rootfs", config = base.path() / "config",
           volume = base.path() / "volume";
  bool volume_mounted = false;
  std::optional<ShareMount> share_root, root_mount, config_mount, volume_mount;
  std::unique_ptr<test::FuseMount> fuse;

  void SetUp() override {
    sandbox::enter_private_mount_namespace();
    // Others may walk to the share: the setuid test runs a program as nobody.
    fs::permissions(base.path(), fs::perms::owner_all | fs::perms::group_exec |
                                     fs::perms::group_read | fs::perms::others_exec |
                                     fs::perms::others_read);
    for (const auto& d : {shared, mnt, rootfs / "etc", config, volume}) fs::create_directories(d);
    std::ofstream(rootfs / "etc" / "passwd") << "root:x:0:0::/root:/bin/sh\n";
    std::ofstream(config / "key") << "operator's secret";
    // A volume on a file system of its own that allows setuid programs: the
    // share's copy must not.
    check_sys(::mount("tmpfs", volume.c_str(), "tmpfs", 0, "mode=0755"), "mount the volume");
    volume_mounted = true;
    // As Sandbox: the share, the container's read-only rootfs, a ConfigMap
    // style "ro" bind and a writable "rbind".
    share_root.emplace(shared, shared);
    check_sys(::mount(nullptr, shared.c_str(), nullptr, MS_SHARED, nullptr), "make shared");
    root_mount.emplace(rootfs, shared / "c" / "rootfs",
                       ShareMountOptions{.recursive = true, .readonly = true});
    config_mount.emplace(config, shared / ".binds" / "c-0",
                         ShareMountOptions{.recursive = false, .readonly = true});
    volume_mount.emplace(volume, shared / ".binds" / "c-1",
                         ShareMountOptions{.recursive = true, .readonly = false});
    fuse = std::make_unique<test::FuseMount>(shared, mnt, "none");
  }
  void TearDown() override {
    fuse.reset();
    volume_mount.reset();
    config_mount.reset();
    root_mount.reset();
    share_root.reset();
    if (volume_mounted) ::umount2(volume.c_str(), MNT_DETACH);
  }
};

// Every kind of write through a read-only part of the share fails with
// EROFS, the server stays up, and the host files are as they were.
TEST_F(GuestRoot, ReadOnlyBindsAndRootfsRefuseEveryWrite) {
  for (const fs::path& dir : {mnt / ".binds" / "c-0", mnt / "c" / "rootfs"}) {
    SCOPED_TRACE(dir.string());
    fs::path file = fs::exists(dir / "key") ? dir / "key" : dir / "etc" / "passwd";
    std::string r;
    r += "write " + err(::open(file.c_str(), O_WRONLY | O_CLOEXEC)) + "\n";
    r += "trunc " + err(::truncate(file.c_str(), 0)) + "\n";
    r +=
        "create " + err(::open((dir / "new").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644)) + "\n";
    r += "mkdir " + err(::mkdir((dir / "d").c_str(), 0755)) + "\n";
    r += "mkfifo " + err(::mkfifo((dir / "p").c_str(), 0600)) + "\n";
    r += "symlink " + err(::symlink("/", (dir / "l").c_str())) + "\n";
    r += "chmod " + err(::chmod(file.c_str(), 04777)) + "\n";
    r += "chown " + err(::chown(file.c_str(), 1, 1)) + "\n";
    r += "setxattr " + err(::setxattr(file.c_str(), "user.x", "1", 1, 0)) + "\n";
    r += "rename " + err(::rename(file.c_str(), (dir / "moved").c_str())) + "\n";
    r += "unlink " + err(::unlink(file.c_str())) + "\n";
    EXPECT_EQ(r,
              "write EROFS\ntrunc EROFS\ncreate EROFS\nmkdir EROFS\nmkfifo EROFS\n"
              "symlink EROFS\nchmod EROFS\nchown EROFS\nsetxattr EROFS\nrename EROFS\n"
              "unlink EROFS\n");
  }
  EXPECT_EQ(slurp(config / "key"), "operator's secret");
  EXPECT_EQ(slurp(rootfs / "etc" / "passwd"), "root:x:0:0::/root:/bin/sh\n");
  struct stat st;
  ASSERT_EQ(::stat((config / "key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_EQ(std::distance(fs::directory_iterator(config), {}), 1);
  // The writable bind still takes writes: the server is serving.
  std::ofstream(mnt / ".binds" / "c-1" / "w") << "ok";
  EXPECT_EQ(slurp(volume / "w"), "ok");
}

TEST_F(GuestRoot, CannotMakeDeviceNodesOnTheHost) {
  fs::path dir = mnt / ".binds" / "c-1";
  std::string r;
  r += "block " + err(::mknod((dir / "sda").c_str(), S_IFBLK | 0600, makedev(8, 0))) + "\n";
  r += "char " + err(::mknod((dir / "mem").c_str(), S_IFCHR | 0666, makedev(1, 1))) + "\n";
  r += "fifo " + err(::mknod((dir / "fifo").c_str(), S_IFIFO | 0600, 0)) + "\n";
  EXPECT_EQ(r, "block EPERM\nchar EPERM\nfifo ok\n");
  EXPECT_FALSE(fs::exists(fs::symlink_status(volume / "sda")));
  EXPECT_FALSE(fs::exists(fs::symlink_status(volume / "mem")));
  EXPECT_TRUE(fs::is_fifo(volume / "fifo"));
}

// The server keeps the mode the guest's root sets, setuid bit included; the
// share's mount of the volume is nosuid, so on the host the file does not
// run setuid through it. The volume's own path is outside vmrt's mounts:
// there it does, which shows the program would otherwise gain root.
TEST_F(GuestRoot, ASetuidFilePlantedThroughTheShareDoesNotRunSetuidThere) {
  fs::copy_file("/usr/bin/id", mnt / ".binds" / "c-1" / "id");
  ASSERT_EQ(::chown((mnt / ".binds" / "c-1" / "id").c_str(), 0, 0), 0);
  ASSERT_EQ(::chmod((mnt / ".binds" / "c-1" / "id").c_str(), 04755), 0);
  struct stat st;
  ASSERT_EQ(::stat((volume / "id").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 04755u);
  EXPECT_EQ(st.st_uid, 0u);
  struct statvfs sv;
  ASSERT_EQ(::statvfs((shared / ".binds" / "c-1").c_str(), &sv), 0);
  EXPECT_EQ(sv.f_flag & (ST_NOSUID | ST_NODEV), ST_NOSUID | ST_NODEV);
  EXPECT_EQ(run_as_nobody(shared / ".binds" / "c-1" / "id", "-u"), "65534\n");
  EXPECT_EQ(run_as_nobody(volume / "id", "-u"), "0\n");
}

}  // namespace
}  // namespace vmrt::fuse
