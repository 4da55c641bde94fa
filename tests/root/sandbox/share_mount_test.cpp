// ShareMount on the host, in a private mount namespace: the flags the spec
// asks for (ro, rbind versus bind) and nosuid,nodev on every mount, down to
// submounts, and in a namespace that copied the share before the mount was
// made, as the jailed file server's does.
#include "sandbox/share_mount.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <optional>

#include "common/error.h"
#include "common/fd.h"
#include "common/tempdir.h"
#include "sandbox/sandbox.h"

namespace vmrt::sandbox {
namespace {

namespace fs = std::filesystem;

constexpr unsigned long kShareFlags = ST_NOSUID | ST_NODEV;

unsigned long mount_flags(const fs::path& p) {
  struct statvfs s;
  check_sys(::statvfs(p.c_str(), &s), "statvfs " + p.string());
  return s.f_flag;
}

// 0 when `p` can be opened for writing (and created), else the errno.
int write_error(const fs::path& p) {
  UniqueFd fd(::open(p.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  return fd ? 0 : errno;
}

struct Pipe {
  UniqueFd read, write;
  Pipe() {
    int fds[2];
    check_sys(::pipe2(fds, O_CLOEXEC), "pipe2");
    read = UniqueFd(fds[0]);
    write = UniqueFd(fds[1]);
  }
};

struct ShareMountTest : ::testing::Test {
  TempDir base{"share-mount"};
  fs::path src = base.path() / "src", shared = base.path() / "shared";
  bool sub_mounted = false;

  void SetUp() override {
    enter_private_mount_namespace();
    fs::create_directories(src / "sub");
    fs::create_directories(shared);
    std::ofstream(src / "file") << "host data";
    // A submount of the source, with a file only it has.
    check_sys(::mount("tmpfs", (src / "sub").c_str(), "tmpfs", 0, "mode=0755"), "mount tmpfs");
    sub_mounted = true;
    std::ofstream(src / "sub" / "in-submount") << "x";
  }
  void TearDown() override {
    if (sub_mounted) ::umount2((src / "sub").c_str(), MNT_DETACH);
  }
};

TEST_F(ShareMountTest, EveryMountIsNosuidNodevSubmountsToo) {
  ShareMount m(src, shared / "rw", {.recursive = true, .readonly = false});
  EXPECT_EQ(mount_flags(shared / "rw") & (kShareFlags | ST_RDONLY), kShareFlags);
  EXPECT_EQ(mount_flags(shared / "rw" / "sub") & (kShareFlags | ST_RDONLY), kShareFlags);
  EXPECT_EQ(write_error(shared / "rw" / "new"), 0);
  EXPECT_EQ(write_error(shared / "rw" / "sub" / "new"), 0);
  // The source itself keeps its own flags: what the operator mounted.
  EXPECT_EQ(mount_flags(src / "sub") & kShareFlags, 0u);
}

TEST_F(ShareMountTest, ReadOnlyReachesSubmountsOfAnRbind) {
  ShareMount m(src, shared / "ro", {.recursive = true, .readonly = true});
  EXPECT_EQ(mount_flags(shared / "ro") & (kShareFlags | ST_RDONLY), kShareFlags | ST_RDONLY);
  EXPECT_EQ(mount_flags(shared / "ro" / "sub") & ST_RDONLY, ST_RDONLY);
  EXPECT_EQ(write_error(shared / "ro" / "file"), EROFS);
  EXPECT_EQ(write_error(shared / "ro" / "new"), EROFS);
  EXPECT_EQ(write_error(shared / "ro" / "sub" / "in-submount"), EROFS);
  std::ifstream in(src / "file");
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "host data");
  EXPECT_EQ(write_error(src / "sub" / "in-submount"), 0);  // the source stays writable
}

TEST_F(ShareMountTest, APlainBindLeavesSubmountsOut) {
  ShareMount m(src, shared / "bind", {.recursive = false, .readonly = true});
  EXPECT_TRUE(fs::exists(shared / "bind" / "file"));
  EXPECT_TRUE(fs::is_directory(shared / "bind" / "sub"));
  EXPECT_FALSE(fs::exists(shared / "bind" / "sub" / "in-submount"));
  EXPECT_EQ(write_error(shared / "bind" / "file"), EROFS);
}

// A single file, as containerd binds /etc/hosts or a Secret's key.
TEST_F(ShareMountTest, AFileIsBoundReadOnly) {
  ShareMount m(src / "file", shared / "file", {.recursive = false, .readonly = true});
  EXPECT_TRUE(fs::is_regular_file(shared / "file"));
  EXPECT_EQ(mount_flags(shared / "file") & (kShareFlags | ST_RDONLY), kShareFlags | ST_RDONLY);
  EXPECT_EQ(write_error(shared / "file"), EROFS);
  std::ifstream in(shared / "file");
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "host data");
}

// The jail copies the share (a shared mount) into its own namespace before
// any container exists; the containers' mounts reach it by propagation and
// must arrive read-only, nosuid and nodev there as well.
TEST_F(ShareMountTest, FlagsReachANamespaceThatCopiedTheShareBefore) {
  ShareMount root(shared, shared);
  check_sys(::mount(nullptr, shared.c_str(), nullptr, MS_SHARED, nullptr), "make shared");
  Pipe ready, go, report;
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // As the jail: a namespace of its own whose mounts are slaves of ours.
    bool ok = ::unshare(CLONE_NEWNS) == 0 &&
              ::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) == 0;
    char c = ok ? 'y' : 'n';
    (void)!::write(ready.write.get(), &c, 1);
    (void)!::read(go.read.get(), &c, 1);
    struct statvfs s {};
    unsigned long out[2] = {::statvfs((shared / "ro").c_str(), &s) == 0 ? s.f_flag : ~0ul,
                            static_cast<unsigned long>(write_error(shared / "ro" / "file"))};
    (void)!::write(report.write.get(), out, sizeof out);
    _exit(0);
  }
  char c = 0;
  EXPECT_EQ(::read(ready.read.get(), &c, 1), 1);
  std::optional<ShareMount> m;
  if (c == 'y')
    m.emplace(src, shared / "ro", ShareMountOptions{.recursive = true, .readonly = true});
  EXPECT_EQ(::write(go.write.get(), &c, 1), 1);
  unsigned long out[2] = {};
  EXPECT_EQ(::read(report.read.get(), out, sizeof out), static_cast<ssize_t>(sizeof out));
  ::waitpid(pid, nullptr, 0);
  ASSERT_EQ(c, 'y') << "the child could not make its own mount namespace";
  EXPECT_EQ(out[0] & (kShareFlags | ST_RDONLY), kShareFlags | ST_RDONLY);
  EXPECT_EQ(out[1], static_cast<unsigned long>(EROFS));
}

TEST_F(ShareMountTest, AMissingSourceIsNamedAndLeavesNothing) {
  try {
    ShareMount m(base.path() / "nope", shared / "x");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("nope"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(shared / "x"));
}

}  // namespace
}  // namespace vmrt::sandbox
