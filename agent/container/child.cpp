#include "agent/container/child.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/openat2.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/unix_socket.h"

namespace vmrt::agent {

namespace {

bool send_report(int channel, const ChildReport& r) {
  ssize_t n;
  do n = ::send(channel, &r, sizeof r, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n == sizeof r;
}

}  // namespace

void Child::fail_with(Step step, int index, int err) const {
  send_report(channel_, {step, index, err});
  _exit(127);
}

void Child::fail(Step step, int index) const { fail_with(step, index, errno); }

void Child::ready_and_wait() const {
  if (!send_report(channel_, {Step::Ready, -1, 0})) fail(Step::WaitStart);
  char go = 0;
  ssize_t n;
  do n = ::recv(channel_, &go, 1, 0);
  while (n < 0 && errno == EINTR);
  // The parent closed its end without starting us: it is going away.
  if (n == 0) _exit(0);
  if (n < 0) fail(Step::WaitStart);
}

void Child::send_fd(int fd, Step step) const {
  ChildReport r{step, -1, 0};
  ssize_t n = send_with_fd(channel_, &r, sizeof r, fd);
  if (n != sizeof r) fail(step);
}

void make_undumpable(const Child& child) {
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) child.fail(Step::Undumpable);
}

FdPath::FdPath(int fd) {
  static constexpr char prefix[] = "/proc/self/fd/";
  std::memcpy(buf_, prefix, sizeof prefix - 1);
  char digits[12];
  int n = 0;
  unsigned v = static_cast<unsigned>(fd);
  do digits[n++] = static_cast<char>('0' + v % 10);
  while ((v /= 10) != 0);
  char* p = buf_ + sizeof prefix - 1;
  while (n > 0) *p++ = digits[--n];
  *p = '\0';
}

bool close_fds_except(const int* keep, int n) {
  // A small insertion sort on a copy: no allocation here.
  int sorted[16];
  int count = 0;
  for (int i = 0; i < n && count < 16; ++i) {
    if (keep[i] < 0) continue;
    int j = count++;
    while (j > 0 && sorted[j - 1] > keep[i]) {
      sorted[j] = sorted[j - 1];
      --j;
    }
    sorted[j] = keep[i];
  }
  unsigned first = 3;
  for (int i = 0; i < count; ++i) {
    unsigned k = static_cast<unsigned>(sorted[i]);
    if (k < first) continue;
    if (k > first && ::syscall(SYS_close_range, first, k - 1, 0) < 0) return false;
    first = k + 1;
  }
  return ::syscall(SYS_close_range, first, ~0U, 0) == 0;
}

int open_in_root(int rootfd, const char* path, int flags) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  long fd;
  do fd = ::syscall(SYS_openat2, rootfd, path, &how, sizeof how);
  while (fd < 0 && errno == EINTR);
  return static_cast<int>(fd);
}

}  // namespace vmrt::agent
