// A process waiting in F_SETLKW on the FUSE server, mounted through the host
// kernel's FUSE client with one request thread (as one virtio-fs request
// queue): while A holds a lock and B waits for it, C's reads and writes of
// other files go on, and A's unlock reaches the server and gives B the lock.
// With the wait held on the request thread, C and the unlock would stall
// behind it for good.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <thread>

#include "common/fd.h"
#include "common/tempdir.h"
#include "tests/root/vmm/fuse/fuse_mount.h"

namespace vmrt::fuse {
namespace {

using namespace std::chrono_literals;

// A forked process running `body`, which reports through `say` (one byte per
// message) and reads commands with `hear`.
class Actor {
 public:
  explicit Actor(std::function<void(Actor&)> body) {
    int up[2], down[2];
    if (pipe2(up, O_CLOEXEC) != 0 || pipe2(down, O_CLOEXEC) != 0) fail("pipe2");
    pid_ = fork();
    if (pid_ == 0) {
      close(up[0]);
      close(down[1]);
      to_parent_ = up[1];
      from_parent_ = down[0];
      body(*this);
      _exit(0);
    }
    close(up[1]);
    close(down[0]);
    from_child_ = UniqueFd(up[0]);
    to_child_ = UniqueFd(down[1]);
  }
  ~Actor() {
    kill(pid_, SIGKILL);
    // A process inside a FUSE request the server never answers cannot die
    // until the server ends (the mount's destructor): not waited for then.
    for (int i = 0; i < 200 && waitpid(pid_, nullptr, WNOHANG) == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_t pid() const { return pid_; }

  // In the child.
  void say(char c) { (void)!::write(to_parent_, &c, 1); }
  char hear() {
    char c = 0;
    return ::read(from_parent_, &c, 1) == 1 ? c : 0;
  }
  // In the parent: the next message, or 0 when none came within `timeout`.
  char next(std::chrono::milliseconds timeout) {
    pollfd p{from_child_.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return 0;
    char c = 0;
    return ::read(from_child_.get(), &c, 1) == 1 ? c : 0;
  }
  void tell(char c) { (void)!::write(to_child_.get(), &c, 1); }

 private:
  pid_t pid_ = -1;
  int to_parent_ = -1, from_parent_ = -1;
  UniqueFd from_child_, to_child_;
};

struct flock whole_file(short type) {
  struct flock fl {};
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  return fl;
}

// Whether `pid` is blocked in fcntl(2) (its wait for the lock has begun).
bool in_fcntl(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/syscall");
  long nr = -1;
  return in >> nr && nr == SYS_fcntl;
}

TEST(FuseLockWait, SetlkwWaitStallsNoOtherRequestAndEndsAtTheUnlock) {
  TempDir base("fuse-lockwait");
  auto shared = base.path() / "shared", mnt = base.path() / "mnt";
  std::filesystem::create_directory(shared);
  std::filesystem::create_directory(mnt);
  std::ofstream(shared / "locked") << "the lock's file";
  test::FuseMount mount(shared, mnt, "auto", /*threads=*/1);
  const std::string locked = (mnt / "locked").string(), other = (mnt / "other").string();

  Actor a([&](Actor& self) {
    int fd = ::open(locked.c_str(), O_RDWR);
    struct flock fl = whole_file(F_WRLCK);
    self.say(fd >= 0 && fcntl(fd, F_SETLK, &fl) == 0 ? 'L' : 'E');
    if (self.hear() != 'U') return;
    fl = whole_file(F_UNLCK);
    self.say(fcntl(fd, F_SETLK, &fl) == 0 ? 'u' : 'E');
    self.hear();  // stays until killed
  });
  ASSERT_EQ(a.next(10s), 'L') << "A could not take the lock";

  Actor b([&](Actor& self) {
    int fd = ::open(locked.c_str(), O_RDWR);
    struct flock fl = whole_file(F_WRLCK);
    self.say(fd >= 0 && fcntl(fd, F_SETLKW, &fl) == 0 ? 'G' : 'E');
    self.hear();  // holds the lock until killed
  });
  bool waiting = false;
  for (int i = 0; i < 1000 && !(waiting = in_fcntl(b.pid())); ++i)
    std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(waiting) << "B never began waiting for the lock";
  EXPECT_EQ(b.next(0ms), 0) << "B got the lock while A held it";

  // C: other files, meanwhile, through the same single request thread.
  Actor c([&](Actor& self) {
    for (int i = 0; i < 100; ++i) {
      std::string data = "record " + std::to_string(i);
      int fd = ::open(other.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
      char buf[64] = {};
      if (fd < 0 || ::pwrite(fd, data.data(), data.size(), 0) != ssize_t(data.size()) ||
          fsync(fd) != 0 || ::pread(fd, buf, sizeof buf, 0) != ssize_t(data.size()) ||
          data != buf || close(fd) != 0) {
        self.say('E');
        return;
      }
    }
    self.say('D');
  });
  ASSERT_EQ(c.next(20s), 'D') << "C's I/O stalled (or failed) while B waited for the lock";
  EXPECT_EQ(b.next(0ms), 0) << "B got the lock while A held it";

  a.tell('U');
  ASSERT_EQ(a.next(10s), 'u') << "A's unlock did not get through";
  ASSERT_EQ(b.next(10s), 'G') << "B was not given the lock after A's unlock";
  // A third process sees B's lock.
  UniqueFd fd(::open(locked.c_str(), O_RDWR | O_CLOEXEC));
  struct flock fl = whole_file(F_WRLCK);
  ASSERT_EQ(fcntl(fd.get(), F_GETLK, &fl), 0);
  EXPECT_EQ(fl.l_type, F_WRLCK);
  EXPECT_EQ(fcntl(fd.get(), F_SETLK, &fl), -1);
}

}  // namespace
}  // namespace vmrt::fuse
