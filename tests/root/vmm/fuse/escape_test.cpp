// Escape attempts through a vmrt-fs-mount: nothing outside the shared
// directory is read, written or created. The client runs chrooted into the
// mount point, as a guest sees its share: symlinks are then resolved by the
// client inside the share, and only the server could reach outside.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <map>
#include <thread>

#include "common/fd_io.h"
#include "common/tempdir.h"
#include "tests/root/vmm/fuse/fuse_mount.h"

namespace vmrt::fuse {
namespace {

// Runs `fn` in a child chrooted at `root` and returns what it returns.
template <typename Fn>
std::string in_chroot(const std::filesystem::path& root, Fn&& fn) {
  int p[2];
  if (pipe(p) != 0) return "pipe failed";
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    std::string out = chroot(root.c_str()) == 0 && chdir("/") == 0 ? fn() : "chroot failed";
    (void)!::write(p[1], out.data(), out.size());
    _exit(0);
  }
  close(p[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(p[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  close(p[0]);
  waitpid(pid, nullptr, 0);
  return out;
}

std::string err(int rc) { return rc < 0 ? strerrorname_np(errno) : "ok"; }

// Names, sizes and contents of everything under `dir`.
std::map<std::string, std::string> snapshot(const std::filesystem::path& dir) {
  std::map<std::string, std::string> out;
  for (auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    std::string v = e.is_symlink() ? "link" : e.is_directory() ? "dir" : "";
    if (e.is_regular_file() && !e.is_symlink()) {
      std::ifstream in(e.path());
      v = std::string(std::istreambuf_iterator<char>(in), {});
    }
    out[e.path().lexically_relative(dir).string()] = v;
  }
  return out;
}

struct FuseEscape : ::testing::Test {
  TempDir base{"fuse-escape"};
  std::filesystem::path shared = base.path() / "shared", outside = base.path() / "outside",
                        mnt = base.path() / "mnt";
  std::map<std::string, std::string> before;
  std::unique_ptr<test::FuseMount> mount;

  void SetUp() override {
    for (auto& p : {shared, outside, mnt}) std::filesystem::create_directory(p);
    std::ofstream(outside / "secret") << "outside secret";
    std::filesystem::create_directory(outside / "dir");
    std::filesystem::create_directory(shared / "sub");
    std::filesystem::create_directory_symlink("/etc", shared / "etc_link");
    std::filesystem::create_symlink(outside / "secret", shared / "abs_secret");
    std::filesystem::create_directory_symlink("../../..", shared / "up");
    std::filesystem::create_directory_symlink("../outside", shared / "sub/rel_out");
    before = snapshot(outside);
    // Cache mode none: every name the client walks is looked up by the server.
    mount = std::make_unique<test::FuseMount>(shared, mnt, "none");
  }
  void TearDown() override {
    mount.reset();
    EXPECT_EQ(snapshot(outside), before) << "something outside the share changed";
    EXPECT_FALSE(std::filesystem::exists("/etc/vmrt-fuse-escape"));
  }
};

TEST_F(FuseEscape, SymlinksToEtcAndUpwardsStayInTheShare) {
  std::string got = in_chroot(mnt, [] {
    std::string r;
    char buf[64];
    r += "etc_link/passwd " + err(::open("/etc_link/passwd", O_RDONLY)) + "\n";
    r += "etc_link create " + err(::open("/etc_link/vmrt-fuse-escape", O_CREAT | O_WRONLY, 0600)) +
         "\n";
    r += "abs_secret " + err(::open("/abs_secret", O_RDONLY)) + "\n";
    r += "up/outside " + err(::open("/up/outside/secret", O_RDONLY)) + "\n";
    r += "rel_out " + err(::open("/sub/rel_out/secret", O_RDONLY)) + "\n";
    r += "rel_out create " + err(::open("/sub/rel_out/new", O_CREAT | O_WRONLY, 0600)) + "\n";
    r += "dotdot " + err(::open("/../../outside/secret", O_RDONLY)) + "\n";
    ssize_t n = readlink("/up", buf, sizeof buf);
    r += "readlink up " + std::string(buf, n > 0 ? static_cast<size_t>(n) : 0) + "\n";
    struct stat root, up, dd;
    stat("/", &root);
    stat("/up", &up);
    stat("/..", &dd);
    r += std::string("up is root ") + (root.st_ino == up.st_ino ? "yes" : "no") + "\n";
    r += std::string(".. is root ") + (root.st_ino == dd.st_ino ? "yes" : "no") + "\n";
    return r;
  });
  EXPECT_EQ(got,
            "etc_link/passwd ENOENT\n"
            "etc_link create ENOENT\n"
            "abs_secret ENOENT\n"
            "up/outside ENOENT\n"
            "rel_out ENOENT\n"
            "rel_out create ENOENT\n"
            "dotdot ENOENT\n"
            "readlink up ../../..\n"
            "up is root yes\n"
            ".. is root yes\n");
}

TEST_F(FuseEscape, HardLinksToOutsideFilesAreRefused) {
  // From the host's side of the mount: a cross-file-system link.
  EXPECT_NE(::link((outside / "secret").c_str(), (mnt / "stolen").c_str()), 0);
  EXPECT_EQ(errno, EXDEV);
  // From inside: following a symlink to an outside path resolves in the share.
  std::string got = in_chroot(mnt, [] {
    return err(linkat(AT_FDCWD, "/abs_secret", AT_FDCWD, "/stolen", AT_SYMLINK_FOLLOW));
  });
  EXPECT_EQ(got, "ENOENT");
  EXPECT_FALSE(std::filesystem::exists(shared / "stolen"));
}

TEST_F(FuseEscape, RenameRacesNeverLeadOutside) {
  // The host swaps a directory in the share with a symlink to the outside
  // directory while the client creates, reads and renames below it.
  std::filesystem::create_directory(shared / "race");
  std::filesystem::create_directory_symlink(outside / "dir", shared / "race_link");
  std::atomic<bool> done{false};
  std::thread swapper([&] {
    while (!done)
      renameat2(AT_FDCWD, (shared / "race").c_str(), AT_FDCWD, (shared / "race_link").c_str(),
                RENAME_EXCHANGE);
  });
  std::string got = in_chroot(mnt, [] {
    int created = 0;
    for (int i = 0; i < 2000; ++i) {
      std::string name = "/race/f" + std::to_string(i % 20);
      int fd = ::open(name.c_str(), O_CREAT | O_WRONLY, 0600);
      if (fd >= 0) {
        ++created;
        (void)!::write(fd, "x", 1);
        close(fd);
      }
      ::rename(name.c_str(), "/race/renamed");
      ::mkdir("/race/sub", 0700);
      ::rmdir("/race/sub");
    }
    return std::to_string(created > 0);
  });
  done = true;
  swapper.join();
  EXPECT_EQ(got, "1");
}

}  // namespace
}  // namespace vmrt::fuse
