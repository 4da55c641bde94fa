// The same file workload on a plain directory and through a vmrt-fs-mount
// of another directory must give identical results: return values, errno,
// listings, attributes, contents, xattrs and lock conflicts.
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "common/tempdir.h"
#include "tests/root/vmm/fuse/fuse_mount.h"

namespace vmrt::fuse {
namespace {

class Log {
 public:
  explicit Log(std::filesystem::path root) : root_(std::move(root)) {}
  std::string p(const std::string& rel) const { return (root_ / rel).string(); }
  // Records a call's outcome: its result or its errno.
  void rc(const std::string& what, long r) {
    out_ += what + " = " + (r < 0 ? std::string(strerrorname_np(errno)) : std::to_string(r)) + "\n";
  }
  void text(const std::string& what, const std::string& value) {
    out_ += what + ": " + value + "\n";
  }
  void stat(const std::string& rel) {
    struct stat st;
    if (lstat(p(rel).c_str(), &st) != 0) return rc("lstat " + rel, -1);
    text("stat " + rel, fmt::format("mode={:o} size={} nlink={} uid={} gid={}", st.st_mode,
                                    st.st_size, st.st_nlink, st.st_uid, st.st_gid));
  }
  void content(const std::string& rel) {
    int fd = ::open(p(rel).c_str(), O_RDONLY);
    if (fd < 0) return rc("open " + rel, -1);
    std::string data(1 << 20, '\0');
    ssize_t n = ::read(fd, data.data(), data.size());
    close(fd);
    data.resize(n < 0 ? 0 : static_cast<size_t>(n));
    text("content " + rel,
         std::to_string(data.size()) + " " + std::to_string(std::hash<std::string>{}(data)));
  }
  void list(const std::string& rel) {
    DIR* d = opendir(p(rel).c_str());
    if (!d) return rc("opendir " + rel, -1);
    std::vector<std::string> names;
    while (dirent* e = readdir(d))
      names.push_back(std::string(e->d_name) + "/" + std::to_string(e->d_type));
    closedir(d);
    std::sort(names.begin(), names.end());
    text("list " + rel, fmt::format("{}", fmt::join(names, " ")));
  }
  const std::string& str() const { return out_; }

 private:
  std::filesystem::path root_;
  std::string out_;
};

std::string workload(const std::filesystem::path& root) {
  Log log(root);
  auto P = [&](const std::string& rel) { return log.p(rel); };
  // Files: create, write, append, pread, truncate.
  int fd = ::open(P("a").c_str(), O_CREAT | O_EXCL | O_RDWR, 0640);
  log.rc("create a", fd);
  std::string big(300000, 'x');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7);
  log.rc("write a", ::write(fd, big.data(), big.size()));
  log.rc("pwrite a", pwrite(fd, "hello", 5, 1000000));
  char buf[16] = {};
  log.rc("pread a", pread(fd, buf, 5, 1000000));
  log.text("pread data", buf);
  log.rc("lseek data", lseek(fd, 400000, SEEK_DATA));
  log.rc("lseek hole", lseek(fd, 0, SEEK_HOLE));
  log.rc("fsync", fsync(fd));
  log.rc("fallocate", fallocate(fd, 0, 2000000, 4096));
  log.rc("ftruncate", ftruncate(fd, 500000));
  close(fd);
  log.rc("create again", ::open(P("a").c_str(), O_CREAT | O_EXCL | O_RDWR, 0640));
  fd = ::open(P("a").c_str(), O_WRONLY | O_APPEND);
  log.rc("append", ::write(fd, "tail", 4));
  close(fd);
  log.content("a");
  log.stat("a");
  fd = ::open(P("t").c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0600);
  log.rc("write t", ::write(fd, "0123456789", 10));
  close(fd);
  log.rc("open trunc", fd = ::open(P("t").c_str(), O_WRONLY | O_TRUNC));
  close(fd);
  log.stat("t");
  log.rc("open missing", ::open(P("missing").c_str(), O_RDONLY));
  log.rc("open dir for write", ::open(P("").c_str(), O_WRONLY));
  // Directories.
  log.rc("mkdir d", ::mkdir(P("d").c_str(), 0750));
  log.rc("mkdir d again", ::mkdir(P("d").c_str(), 0750));
  log.rc("mkdir d/e", ::mkdir(P("d/e").c_str(), 0700));
  log.rc("rmdir d", ::rmdir(P("d").c_str()));
  log.rc("rmdir a", ::rmdir(P("a").c_str()));
  log.rc("unlink d", ::unlink(P("d").c_str()));
  for (int i = 0; i < 50; ++i) {
    int f = ::open(P("d/f" + std::to_string(i)).c_str(), O_CREAT | O_WRONLY, 0644);
    log.rc("write many", ::write(f, buf, static_cast<size_t>(i)));
    close(f);
  }
  log.list("d");
  // Renames.
  log.rc("rename", ::rename(P("t").c_str(), P("d/t2").c_str()));
  log.rc("rename noreplace",
         renameat2(AT_FDCWD, P("a").c_str(), AT_FDCWD, P("d/t2").c_str(), RENAME_NOREPLACE));
  log.rc("rename exchange",
         renameat2(AT_FDCWD, P("a").c_str(), AT_FDCWD, P("d/t2").c_str(), RENAME_EXCHANGE));
  log.stat("a");
  log.stat("d/t2");
  log.rc("rename dir over file", ::rename(P("d/e").c_str(), P("a").c_str()));
  log.rc("rename into itself", ::rename(P("d").c_str(), P("d/e/x").c_str()));
  // Links.
  log.rc("link", ::link(P("a").c_str(), P("d/hard").c_str()));
  log.stat("a");
  log.rc("link dir", ::link(P("d").c_str(), P("dl").c_str()));
  log.rc("symlink", ::symlink("d/t2", P("sl").c_str()));
  log.rc("symlink dangling", ::symlink("nowhere", P("dangling").c_str()));
  char target[64] = {};
  log.rc("readlink", readlink(P("sl").c_str(), target, sizeof target));
  log.text("target", target);
  log.content("sl");
  log.rc("open dangling", ::open(P("dangling").c_str(), O_RDONLY));
  log.rc("open nofollow", ::open(P("sl").c_str(), O_RDONLY | O_NOFOLLOW));
  log.rc("mkfifo", mkfifo(P("fifo").c_str(), 0644));
  log.stat("fifo");
  // Attributes.
  log.rc("chmod", chmod(P("a").c_str(), 04751));
  log.rc("chown", chown(P("a").c_str(), 1234, 5678));
  log.stat("a");
  timespec ts[2] = {{1000, 5}, {2000, 7}};
  log.rc("utimensat", utimensat(AT_FDCWD, P("a").c_str(), ts, 0));
  struct stat st;
  lstat(P("a").c_str(), &st);
  log.text("times", fmt::format("{}.{} {}.{}", st.st_atim.tv_sec, st.st_atim.tv_nsec,
                                st.st_mtim.tv_sec, st.st_mtim.tv_nsec));
  log.rc("truncate", truncate(P("a").c_str(), 10));
  log.stat("a");
  log.rc("access", access(P("a").c_str(), R_OK | W_OK));
  // Xattrs.
  log.rc("setxattr", setxattr(P("a").c_str(), "user.one", "1", 1, 0));
  log.rc("setxattr create", setxattr(P("a").c_str(), "user.one", "2", 1, XATTR_CREATE));
  log.rc("setxattr replace", setxattr(P("a").c_str(), "user.two", "2", 1, XATTR_REPLACE));
  log.rc("setxattr big", setxattr(P("a").c_str(), "user.big", big.data(), 4000, 0));
  char xv[8192] = {};
  log.rc("getxattr", getxattr(P("a").c_str(), "user.one", xv, sizeof xv));
  log.rc("getxattr size", getxattr(P("a").c_str(), "user.big", nullptr, 0));
  log.rc("getxattr small", getxattr(P("a").c_str(), "user.big", xv, 10));
  log.rc("getxattr missing", getxattr(P("a").c_str(), "user.none", xv, sizeof xv));
  ssize_t ln = listxattr(P("a").c_str(), xv, sizeof xv);
  std::vector<std::string> names;
  for (ssize_t i = 0; i < ln; i += static_cast<ssize_t>(strlen(xv + i)) + 1)
    names.emplace_back(xv + i);
  std::sort(names.begin(), names.end());
  log.text("listxattr", fmt::format("{}", fmt::join(names, ",")));
  log.rc("removexattr", removexattr(P("a").c_str(), "user.one"));
  log.rc("removexattr again", removexattr(P("a").c_str(), "user.one"));
  log.rc("lgetxattr symlink", lgetxattr(P("sl").c_str(), "user.x", xv, sizeof xv));
  // POSIX locks: a second process conflicts with the first.
  fd = ::open(P("d/t2").c_str(), O_RDWR);
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = 10;
  fl.l_len = 20;
  log.rc("setlk", fcntl(fd, F_SETLK, &fl));
  pid_t child = fork();
  if (child == 0) {
    int cfd = ::open(P("d/t2").c_str(), O_RDWR);
    struct flock c {};
    c.l_type = F_RDLCK;
    c.l_whence = SEEK_SET;
    c.l_start = 15;
    c.l_len = 1;
    int r = fcntl(cfd, F_SETLK, &c) == 0 ? 0 : errno;
    c.l_start = 0;
    c.l_len = 0;
    c.l_type = F_WRLCK;
    fcntl(cfd, F_GETLK, &c);
    c.l_start = 100;
    c.l_len = 5;
    c.l_type = F_WRLCK;
    int r2 = fcntl(cfd, F_SETLK, &c) == 0 ? 0 : errno;
    _exit(r * 1 + (r2 ? 100 : 0) + (c.l_type == F_WRLCK ? 50 : 0));
  }
  int status = 0;
  waitpid(child, &status, 0);
  log.text("child lock", std::to_string(WEXITSTATUS(status)));
  close(fd);  // drops the lock
  child = fork();
  if (child == 0) {
    int cfd = ::open(P("d/t2").c_str(), O_RDWR);
    struct flock c {};
    c.l_type = F_WRLCK;
    c.l_whence = SEEK_SET;
    _exit(fcntl(cfd, F_SETLK, &c) == 0 ? 0 : 1);
  }
  waitpid(child, &status, 0);
  log.text("lock after close", std::to_string(WEXITSTATUS(status)));
  // An unprivileged caller: what it creates is its own, where it may not
  // write it is refused.
  log.rc("mkdir pub", ::mkdir(P("pub").c_str(), 0777));
  log.rc("chmod pub", chmod(P("pub").c_str(), 01777));
  child = fork();
  if (child == 0) {
    if (setgroups(0, nullptr) != 0 || setgid(1000) != 0 || setuid(1000) != 0) _exit(99);
    umask(022);
    int r = 0;
    int f = ::open(P("pub/mine").c_str(), O_CREAT | O_WRONLY, 0666);
    r |= (f >= 0 ? 0 : 1);
    r |= (::mkdir(P("pub/mydir").c_str(), 0777) == 0 ? 0 : 2);
    r |= (::symlink("mine", P("pub/mylink").c_str()) == 0 ? 0 : 4);
    r |= (::open(P("d/denied").c_str(), O_CREAT | O_WRONLY, 0666) < 0 && errno == EACCES ? 0 : 8);
    r |= (::unlink(P("d/t2").c_str()) < 0 && errno == EACCES ? 0 : 16);
    _exit(r);
  }
  waitpid(child, &status, 0);
  log.text("unprivileged", std::to_string(WEXITSTATUS(status)));
  log.stat("pub/mine");
  log.stat("pub/mydir");
  log.stat("pub/mylink");
  // Cleanup paths.
  log.rc("unlink a", ::unlink(P("a").c_str()));
  log.stat("d/hard");
  log.list("");
  log.list("d");
  return log.str();
}

TEST(FuseSameAsPlain, WorkloadGivesIdenticalResults) {
  TempDir base("fuse-same");
  auto plain = base.path() / "plain", shared = base.path() / "shared", mnt = base.path() / "mnt";
  for (auto& p : {plain, shared, mnt}) std::filesystem::create_directory(p);
  // The workload's unprivileged caller must reach its directories.
  std::filesystem::permissions(base.path(), std::filesystem::perms(0755));
  std::string expected = workload(plain);
  EXPECT_NE(expected.find("unprivileged: 0\n"), std::string::npos) << expected;
  EXPECT_NE(expected.find("stat pub/mine: mode=100644 size=0 nlink=1 uid=1000 gid=1000"),
            std::string::npos);
  std::string got;
  {
    test::FuseMount mount(shared, mnt, "auto");
    got = workload(mnt);
    EXPECT_TRUE(mount.stop().success());
  }
  EXPECT_EQ(got, expected);
  // What the server did landed in the shared directory.
  EXPECT_TRUE(std::filesystem::exists(shared / "d/hard"));
  EXPECT_FALSE(test::mounted(mnt));
}

TEST(FuseSameAsPlain, EveryCacheModeServesTheWorkload) {
  for (const char* mode : {"none", "always"}) {
    TempDir base("fuse-same");
    auto plain = base.path() / "plain", shared = base.path() / "shared", mnt = base.path() / "mnt";
    for (auto& p : {plain, shared, mnt}) std::filesystem::create_directory(p);
    std::filesystem::permissions(base.path(), std::filesystem::perms(0755));
    std::string expected = workload(plain);
    test::FuseMount mount(shared, mnt, mode);
    EXPECT_EQ(workload(mnt), expected) << mode;
  }
}

}  // namespace
}  // namespace vmrt::fuse
