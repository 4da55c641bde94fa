// The watchdog linked into this binary (tests/support/test_watchdog.h): its
// report names the stuck test and shows the process tree, and it ends the
// test process instead of letting it hang.

#include "tests/support/test_watchdog.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "common/process.h"
#include "tests/support/watchdog_report.h"

namespace vmrt::test {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

// A child named `name` that sleeps until killed, or its parent dies (or
// with `outlive_parent` at most 20 s); returns once the name is set, so that
// a report taken next shows it.
pid_t start_named_child(const char* name, bool outlive_parent = false) {
  int ready[2];
  if (::pipe(ready) < 0) return -1;
  pid_t pid = ::fork();
  if (pid == 0) {
    if (outlive_parent)
      ::alarm(20);
    else
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::prctl(PR_SET_NAME, name);
    (void)!::write(ready[1], "x", 1);
    for (;;) ::pause();
  }
  ::close(ready[1]);
  char c;
  (void)!::read(ready[0], &c, 1);
  ::close(ready[0]);
  return pid;
}

std::string read_all(int fd) {
  std::string out;
  ::lseek(fd, 0, SEEK_SET);
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  return out;
}

TEST(TestWatchdog, ReportListsDescendantsAndThreads) {
  pid_t child = start_named_child("wd-child");
  ASSERT_GT(child, 0);
  int fd = ::memfd_create("report", MFD_CLOEXEC);
  ASSERT_GE(fd, 0);
  write_process_tree(fd, ::getpid());
  std::string report = read_all(fd);
  ::close(fd);
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);

  std::string self = std::to_string(::getpid());
  EXPECT_THAT(report, HasSubstr("pid " + self + " ppid "));
  EXPECT_THAT(report,
              HasSubstr("pid " + std::to_string(child) + " ppid " + self + " comm \"wd-child\""));
  // The watchdog's own thread makes this process multithreaded.
  EXPECT_THAT(report, AllOf(HasSubstr("thread " + self + " comm"), HasSubstr("\"test-watchdog\""),
                            HasSubstr("wchan: "), HasSubstr("syscall: "), HasSubstr("stack")));
}

// gtest does not tell listeners about the tests in its death test children,
// so the stuck test is this same test run again in a child of its own, told
// apart by the environment.
TEST(TestWatchdog, FiresOnAStuckTest) {
  if (std::getenv("VMRT_TEST_WATCHDOG_STUCK")) {
    rlimit no_core{};  // an abort that dumps core is slow
    ::setrlimit(RLIMIT_CORE, &no_core);
    start_named_child("wd-descendant", true);
    WatchdogReport report("the stuck test's log", [] { return std::string("log line 1"); });
    ::prctl(PR_SET_NAME, "wd-stuck");
    ::sleep(30);
    return;
  }
  SpawnOptions options;
  options.extra_env = {"VMRT_TEST_WATCHDOG_S=1", "VMRT_TEST_WATCHDOG_STUCK=1"};
  auto start = std::chrono::steady_clock::now();
  RunResult r = run_capture({std::filesystem::read_symlink("/proc/self/exe").string(),
                             "--gtest_filter=TestWatchdog.FiresOnAStuckTest"},
                            std::chrono::seconds(10), options);
  // Ended by the watchdog, not by run_capture's timeout; and as it killed the
  // descendant too, nothing kept the output pipes open until its alarm.
  EXPECT_FALSE(r.timed_out);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(8));
  EXPECT_EQ(r.status.signal, SIGABRT) << r.status.to_string();
  EXPECT_THAT(r.err, AllOf(HasSubstr("[ WATCHDOG ] TestWatchdog.FiresOnAStuckTest still running "
                                     "after 1 s"),
                           HasSubstr("comm \"wd-stuck\""), HasSubstr("comm \"wd-descendant\""),
                           HasSubstr("comm \"test-watchdog\""), HasSubstr("syscall: "),
                           HasSubstr("[ WATCHDOG ] the stuck test's log:\nlog line 1\n"),
                           HasSubstr("[ WATCHDOG ] TestWatchdog.FiresOnAStuckTest: aborting")));
  EXPECT_THAT(r.out, HasSubstr("[ RUN      ] TestWatchdog.FiresOnAStuckTest"));
}

}  // namespace
}  // namespace vmrt::test
