#include "agent/container/copy_up.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vmrt::agent {

namespace {

// Deep enough for any image directory; a bound, since each level takes a
// directory buffer of the stack.
constexpr int kMaxDepth = 64;

int copy_tree(int from, int to, int depth);

// errno after a failed call, closing the descriptors given.
int failed(int fd1 = -1, int fd2 = -1) {
  int err = errno;
  if (fd1 >= 0) ::close(fd1);
  if (fd2 >= 0) ::close(fd2);
  return err;
}

int copy_file(int from, int to, const char* name, const struct stat& st) {
  int src = ::openat(from, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (src < 0) return failed();
  int dst = ::openat(to, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (dst < 0) return failed(src);
  for (off_t left = st.st_size; left > 0;) {
    ssize_t n = ::sendfile(dst, src, nullptr, static_cast<size_t>(left));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return failed(src, dst);
    if (n == 0) break;  // the file shrank meanwhile
    left -= n;
  }
  int r = ::fchown(dst, st.st_uid, st.st_gid) < 0 || ::fchmod(dst, st.st_mode & 07777) < 0
              ? failed()
              : 0;
  ::close(src);
  ::close(dst);
  return r;
}

int copy_symlink(int from, int to, const char* name) {
  char target[PATH_MAX];
  ssize_t n = ::readlinkat(from, name, target, sizeof target - 1);
  if (n < 0) return failed();
  target[n] = '\0';
  if (::symlinkat(target, to, name) < 0) return failed();
  return 0;
}

int copy_dir(int from, int to, const char* name, const struct stat& st, int depth) {
  if (depth >= kMaxDepth) return ELOOP;
  if (::mkdirat(to, name, 0700) < 0 && errno != EEXIST) return failed();
  int src = ::openat(from, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (src < 0) return failed();
  int dst = ::openat(to, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dst < 0) return failed(src);
  int r = copy_tree(src, dst, depth + 1);
  if (r == 0 && (::fchown(dst, st.st_uid, st.st_gid) < 0 || ::fchmod(dst, st.st_mode & 07777) < 0))
    r = errno;
  ::close(src);
  ::close(dst);
  return r;
}

int copy_entry(int from, int to, const char* name, int depth) {
  struct stat st;
  if (::fstatat(from, name, &st, AT_SYMLINK_NOFOLLOW) < 0) return failed();
  switch (st.st_mode & S_IFMT) {
    case S_IFDIR:
      return copy_dir(from, to, name, st, depth);
    case S_IFREG:
      return copy_file(from, to, name, st);
    case S_IFLNK:
      return copy_symlink(from, to, name);
    default:  // fifos, sockets, device nodes
      if (::mknodat(to, name, st.st_mode, st.st_rdev) < 0 ||
          ::fchownat(to, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
        return failed();
      return 0;
  }
}

int copy_tree(int from, int to, int depth) {
  // getdents64 reads through the descriptor's offset: a fresh one per walk.
  int dir = ::openat(from, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return failed();
  alignas(struct dirent64) char buf[4096];
  for (;;) {
    ssize_t n = ::getdents64(dir, buf, sizeof buf);
    if (n < 0) return failed(dir);
    if (n == 0) break;
    for (ssize_t off = 0; off < n;) {
      auto* d = reinterpret_cast<struct dirent64*>(buf + off);
      off += d->d_reclen;
      if (std::strcmp(d->d_name, ".") == 0 || std::strcmp(d->d_name, "..") == 0) continue;
      if (int r = copy_entry(from, to, d->d_name, depth)) {
        ::close(dir);
        return r;
      }
    }
  }
  ::close(dir);
  return 0;
}

}  // namespace

int copy_up(int from, int to) { return copy_tree(from, to, 0); }

}  // namespace vmrt::agent
