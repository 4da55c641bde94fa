#include "tests/support/test_watchdog.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>

#include "tests/support/watchdog_report.h"

namespace vmrt::test {

namespace {

using Clock = std::chrono::steady_clock;

constexpr long kDefaultLimitSeconds = 120;

// Output goes through a fixed buffer to write(2): the test's main thread may
// be stuck holding the stdio or allocator lock.
class Out {
 public:
  explicit Out(int fd) : fd_(fd) {}
  ~Out() { flush(); }
  Out(const Out&) = delete;
  Out& operator=(const Out&) = delete;

  __attribute__((format(printf, 2, 3))) void print(const char* format, ...) {
    char line[1024];
    va_list args;
    va_start(args, format);
    int n = std::vsnprintf(line, sizeof line, format, args);
    va_end(args);
    if (n > 0) put(line, std::min(static_cast<size_t>(n), sizeof line - 1));
  }

  void put(const char* s, size_t n) {
    while (n > 0) {
      if (len_ == sizeof buf_) flush();
      size_t chunk = std::min(n, sizeof buf_ - len_);
      std::memcpy(buf_ + len_, s, chunk);
      len_ += chunk;
      s += chunk;
      n -= chunk;
    }
  }

  void flush() {
    const char* p = buf_;
    while (len_ > 0 && writable(fd_)) {
      ssize_t n = ::write(fd_, p, len_);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      p += n;
      len_ -= static_cast<size_t>(n);
    }
    len_ = 0;
  }

  // Whether `fd` takes output within a while. A reader that stopped reading
  // must not keep the watchdog from aborting: then the rest is dropped.
  static bool writable(int fd) {
    static std::atomic<bool> stuck{false};
    if (stuck) return false;
    pollfd p{fd, POLLOUT, 0};
    int r;
    do r = ::poll(&p, 1, 10000);
    while (r < 0 && errno == EINTR);
    if (r == 0) stuck = true;
    return r > 0;
  }

 private:
  int fd_;
  char buf_[4096];
  size_t len_ = 0;
};

// Reads a small /proc file into buf (NUL-terminated); the length, or -errno.
ssize_t read_small(const char* path, char* buf, size_t size) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  size_t len = 0;
  while (len < size - 1) {
    ssize_t n = ::read(fd, buf + len, size - 1 - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return -err;
    }
    if (n == 0) break;
    len += static_cast<size_t>(n);
  }
  ::close(fd);
  buf[len] = '\0';
  return static_cast<ssize_t>(len);
}

void strip_newline(char* s, ssize_t len) {
  while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == ' ')) s[--len] = '\0';
}

// One line "label: content", or one line per content line below the label
// for multi-line files such as the kernel stack; `indent` spaces before each.
void print_file(Out& out, int indent, const char* label, const char* dir, const char* name,
                bool multiline = false) {
  char path[128];
  std::snprintf(path, sizeof path, "%s/%s", dir, name);
  char buf[8192];
  ssize_t n = read_small(path, buf, sizeof buf);
  if (n < 0) {
    out.print("%*s%s: (unreadable: %s)\n", indent, "", label, std::strerror(static_cast<int>(-n)));
    return;
  }
  strip_newline(buf, n);
  if (!multiline) {
    out.print("%*s%s: %s\n", indent, "", label, buf);
    return;
  }
  out.print("%*s%s:%s\n", indent, "", label, buf[0] ? "" : " (empty)");
  for (char* line = buf; *line;) {
    char* end = std::strchr(line, '\n');
    if (end) *end = '\0';
    out.print("%*s%s\n", indent + 2, "", line);
    if (!end) break;
    line = end + 1;
  }
}

// comm, state and ppid from /proc/.../stat; comm may itself hold spaces and
// parentheses, so the fields after it are found from the last ')'.
struct Stat {
  char comm[64] = "?";
  char state = '?';
  pid_t ppid = -1;
};

bool read_stat(const char* dir, Stat* st) {
  char path[128];
  std::snprintf(path, sizeof path, "%s/stat", dir);
  char buf[1024];
  if (read_small(path, buf, sizeof buf) <= 0) return false;
  char* open = std::strchr(buf, '(');
  char* close = std::strrchr(buf, ')');
  if (!open || !close || close < open || close[1] == '\0') return false;
  size_t len = std::min(static_cast<size_t>(close - open - 1), sizeof st->comm - 1);
  std::memcpy(st->comm, open + 1, len);
  st->comm[len] = '\0';
  int ppid = -1;
  if (std::sscanf(close + 1, " %c %d", &st->state, &ppid) != 2) return false;
  st->ppid = ppid;
  return true;
}

// Numeric entries of a /proc directory, through getdents64 into a caller's
// buffer (opendir would allocate).
template <typename Fn>
void for_each_numeric_entry(const char* dir, Fn&& fn) {
  int fd = ::open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  alignas(dirent64) char buf[8192];
  for (;;) {
    ssize_t n = ::getdents64(fd, buf, sizeof buf);
    if (n <= 0) break;
    for (ssize_t off = 0; off < n;) {
      auto* d = reinterpret_cast<dirent64*>(buf + off);
      off += d->d_reclen;
      char* end = nullptr;
      long v = std::strtol(d->d_name, &end, 10);
      if (d->d_name[0] >= '0' && d->d_name[0] <= '9' && end && *end == '\0')
        fn(static_cast<pid_t>(v));
    }
  }
  ::close(fd);
}

// A snapshot of (pid, ppid) for the whole of /proc, kept in static storage
// so that taking it allocates nothing.
struct Snapshot {
  static constexpr size_t kMax = 32768;
  struct Entry {
    pid_t pid, ppid;
  };
  Entry entries[kMax];
  size_t count = 0;
  bool truncated = false;

  void take() {
    count = 0;
    truncated = false;
    for_each_numeric_entry("/proc", [&](pid_t pid) {
      if (count == kMax) {
        truncated = true;
        return;
      }
      char dir[64];
      std::snprintf(dir, sizeof dir, "/proc/%d", pid);
      Stat st;
      if (read_stat(dir, &st)) entries[count++] = {pid, st.ppid};
    });
  }

  // Depth first from root, root included; a depth bound guards against a
  // cycle made of pids reused while the snapshot was taken.
  template <typename Fn>
  void descendants(pid_t root, Fn&& fn, int depth = 0) const {
    fn(root, depth);
    if (depth >= 64) return;
    for (size_t i = 0; i < count; ++i)
      if (entries[i].ppid == root && entries[i].pid != root)
        descendants(entries[i].pid, fn, depth + 1);
  }
};

std::mutex g_snapshot_mutex;
Snapshot g_snapshot;

void print_task(Out& out, int indent, const char* dir) {
  print_file(out, indent, "wchan", dir, "wchan");
  print_file(out, indent, "syscall", dir, "syscall");
  print_file(out, indent, "stack", dir, "stack", true);
}

// A single-threaded process in one block; otherwise the process line and
// then each of its threads, the main one included.
void print_process(Out& out, pid_t pid, int depth) {
  int indent = 2 * depth;
  char dir[32];
  std::snprintf(dir, sizeof dir, "/proc/%d", pid);
  Stat st;
  if (!read_stat(dir, &st)) {
    out.print("%*spid %d: gone\n", indent, "", pid);
    return;
  }
  out.print("%*spid %d ppid %d comm \"%s\" state %c\n", indent, "", pid, st.ppid, st.comm,
            st.state);
  char path[48];
  std::snprintf(path, sizeof path, "%s/cmdline", dir);
  char cmdline[512];
  if (ssize_t n = read_small(path, cmdline, sizeof cmdline); n > 0) {
    for (ssize_t i = 0; i < n; ++i)
      if (cmdline[i] == '\0') cmdline[i] = ' ';
    strip_newline(cmdline, n);
    out.print("%*scmdline: %s\n", indent + 2, "", cmdline);
  }

  char tasks[48];
  std::snprintf(tasks, sizeof tasks, "%s/task", dir);
  int threads = 0;
  for_each_numeric_entry(tasks, [&](pid_t) { ++threads; });
  if (threads <= 1) return print_task(out, indent + 2, dir);
  for_each_numeric_entry(tasks, [&](pid_t tid) {
    char tdir[64];
    std::snprintf(tdir, sizeof tdir, "%s/%d", tasks, tid);
    Stat ts;
    read_stat(tdir, &ts);
    out.print("%*sthread %d comm \"%s\" state %c\n", indent + 2, "", tid, ts.comm, ts.state);
    print_task(out, indent + 4, tdir);
  });
}

long limit_from_env() {
  const char* s = std::getenv("VMRT_TEST_WATCHDOG_S");
  if (!s || !*s) return kDefaultLimitSeconds;
  char* end = nullptr;
  long v = std::strtol(s, &end, 10);
  if (*end != '\0' || v < 0) {
    std::fprintf(stderr, "VMRT_TEST_WATCHDOG_S=\"%s\" is not a number of seconds; using %ld\n", s,
                 kDefaultLimitSeconds);
    return kDefaultLimitSeconds;
  }
  return v;
}

class Watchdog : public ::testing::EmptyTestEventListener {
 public:
  ~Watchdog() override { stop(); }

  void OnTestProgramStart(const ::testing::UnitTest&) override {
    limit_ = std::chrono::seconds(limit_from_env());
    if (limit_.count() == 0 || thread_) return;
    owner_ = ::getpid();
    thread_ = std::make_unique<std::thread>([this] { run(); });
  }

  void OnTestStart(const ::testing::TestInfo& info) override {
    std::lock_guard lock(mutex_);
    std::snprintf(name_, sizeof name_, "%s.%s", info.test_suite_name(), info.name());
    deadline_ = Clock::now() + limit_;
    running_ = true;
    wake_.notify_one();
  }

  void OnTestEnd(const ::testing::TestInfo&) override {
    std::lock_guard lock(mutex_);
    running_ = false;
    wake_.notify_one();
  }

  void OnTestProgramEnd(const ::testing::UnitTest&) override { stop(); }

 private:
  void run() {
    ::pthread_setname_np(::pthread_self(), "test-watchdog");
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      if (running_ && Clock::now() >= deadline_) fire();
      if (running_)
        wake_.wait_until(lock, deadline_);
      else
        wake_.wait(lock);
    }
  }

  [[noreturn]] void fire() {
    // What the test itself printed comes first, unless the stuck thread holds
    // stdout.
    if (::ftrylockfile(stdout) == 0) {
      if (Out::writable(STDOUT_FILENO)) ::fflush_unlocked(stdout);
      ::funlockfile(stdout);
    }
    pid_t self = ::getpid();
    {
      Out out(STDERR_FILENO);
      out.print(
          "\n[ WATCHDOG ] %s still running after %lld s; the test process and its descendants:\n",
          name_, static_cast<long long>(limit_.count()));
    }
    write_process_tree(STDERR_FILENO, self);
    write_watchdog_reports(STDERR_FILENO);
    // Descendants left behind would keep the pipes ctest reads from, and the
    // test's cgroups, busy after the abort.
    {
      std::lock_guard lock(g_snapshot_mutex);
      g_snapshot.take();
      g_snapshot.descendants(self, [&](pid_t pid, int) {
        if (pid != self) ::kill(pid, SIGKILL);
      });
    }
    Out(STDERR_FILENO).print("[ WATCHDOG ] %s: aborting\n", name_);
    std::abort();
  }

  void stop() {
    if (!thread_) return;
    // In a forked copy of the test process the thread does not exist and
    // the mutex may have been copied locked: leave both alone.
    if (::getpid() != owner_) {
      (void)thread_.release();
      return;
    }
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_->join();
    thread_.reset();
  }

  std::chrono::seconds limit_{kDefaultLimitSeconds};
  std::unique_ptr<std::thread> thread_;
  pid_t owner_ = -1;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool running_ = false;
  bool stopping_ = false;
  Clock::time_point deadline_;
  char name_[512] = "";
};

// Registered before main, so that linking the library is all a test binary
// needs; gtest owns (and deletes) the listener.
[[maybe_unused]] const bool g_registered = [] {
  ::testing::UnitTest::GetInstance()->listeners().Append(new Watchdog);
  return true;
}();

}  // namespace

void write_process_tree(int fd, pid_t root) {
  std::lock_guard lock(g_snapshot_mutex);
  g_snapshot.take();
  Out out(fd);
  if (g_snapshot.truncated)
    out.print("(more than %zu processes: the list may be incomplete)\n", Snapshot::kMax);
  g_snapshot.descendants(root, [&](pid_t pid, int depth) { print_process(out, pid, depth); });
}

}  // namespace vmrt::test
