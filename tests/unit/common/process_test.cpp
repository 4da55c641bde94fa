#include "common/process.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "common/error.h"
#include "common/fd_io.h"
#include "common/tempdir.h"
#include "tests/support/error_text.h"

namespace vmrt {
namespace {

using namespace std::chrono_literals;
using test::error_text;

// Whether this process has no child left, reaped or not.
bool no_children() { return waitpid(-1, nullptr, WNOHANG) == -1 && errno == ECHILD; }

// Whether `pid` is gone or a zombie waiting for someone else (init) to reap it.
bool dead(pid_t pid) {
  if (::kill(pid, 0) < 0) return true;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(stat)), {});
  auto close = s.rfind(')');
  return close != std::string::npos && s.substr(close + 2, 1) == "Z";
}

std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

TEST(Subprocess, ReportsExitCodesAndSignals) {
  ExitStatus three = Subprocess::spawn({"sh", "-c", "exit 3"}).wait();
  EXPECT_EQ(three.to_string(), "exited with status 3");
  EXPECT_FALSE(three.success());
  EXPECT_TRUE(Subprocess::spawn({"true"}).wait().success());
  Subprocess p = Subprocess::spawn({"sleep", "30"});
  p.kill(SIGKILL);
  ExitStatus s = p.wait();
  EXPECT_FALSE(s.exited);
  EXPECT_EQ(s.signal, SIGKILL);
  EXPECT_EQ(s.to_string().rfind("killed by signal 9", 0), 0u) << s.to_string();
  EXPECT_EQ(p.wait().signal, SIGKILL) << "a second wait returns the same status";
}

TEST(Subprocess, StartFailuresAreErrorsNamingTheProgramAndLeaveNoChild) {
  EXPECT_EQ(error_text([] {
              Subprocess::spawn({"/nonexistent/tool", "x"});
            }),
            "cannot execute /nonexistent/tool: No such file or directory");
  EXPECT_EQ(error_text([] { Subprocess::spawn({"vmrt-no-such-program"}); }),
            "cannot execute vmrt-no-such-program: No such file or directory");
  EXPECT_EQ(error_text([] { Subprocess::spawn({"/"}); }), "cannot execute /: Permission denied");
  EXPECT_EQ(error_text([] {
              SpawnOptions o;
              o.cwd = "/nonexistent/dir";
              Subprocess::spawn({"true"}, o);
            }),
            "cannot start true: chdir to /nonexistent/dir: No such file or directory");
  EXPECT_EQ(error_text([] { Subprocess::spawn({}); }), "cannot run an empty command");
  EXPECT_NE(error_text([] {
              Subprocess::spawn({"true"}, {.extra_env = {"NOEQUALS"}});
            }).find("not KEY=VALUE"),
            std::string::npos);
  EXPECT_TRUE(no_children());
}

TEST(Subprocess, DestructorKillsAndReapsARunningChild) {
  pid_t pid;
  {
    Subprocess p = Subprocess::spawn({"sleep", "30"});
    pid = p.pid();
    Subprocess moved(std::move(p));  // the moved-from object must not kill or reap
    EXPECT_EQ(::kill(pid, 0), 0);
  }
  EXPECT_EQ(::kill(pid, 0), -1) << "child still exists (running or zombie)";
  EXPECT_TRUE(no_children());
}

TEST(Subprocess, MoveAssignmentEndsTheChildItReplaces) {
  Subprocess a = Subprocess::spawn({"sleep", "30"});
  pid_t first = a.pid();
  a = Subprocess::spawn({"true"});
  EXPECT_EQ(::kill(first, 0), -1);
  EXPECT_TRUE(a.wait().success());
}

// Waiting on a moved-from Subprocess is an error, not waitpid(-1), which
// would reap (and so steal the status of) another child of this process.
TEST(Subprocess, AMovedFromProcessReapsNoOtherChild) {
  Subprocess a = Subprocess::spawn({"true"});
  Subprocess other = Subprocess::spawn({"sh", "-c", "exit 3"});
  Subprocess b = std::move(a);
  EXPECT_THROW(a.wait_for(200ms), Error);  // NOLINT(bugprone-use-after-move): the point
  EXPECT_THROW(a.wait(), Error);           // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(other.wait().code, 3);
  EXPECT_TRUE(b.wait().success());
}

TEST(Subprocess, WaitForReturnsAtExitOrAfterTheTimeout) {
  Subprocess sleeper = Subprocess::spawn({"sleep", "30"});
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(sleeper.wait_for(50ms));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 50ms);
  Subprocess quick = Subprocess::spawn({"sh", "-c", "sleep 0.05; exit 7"});
  start = std::chrono::steady_clock::now();
  auto s = quick.wait_for(10s);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->code, 7);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s) << "wait_for slept past the exit";
}

TEST(Subprocess, StdinIsDevNullByDefaultOrAPipe) {
  EXPECT_EQ(run_capture({"cat"}, 10s).out, "");
  Subprocess p = Subprocess::spawn(
      {"tr", "a-z", "A-Z"}, {.in = Stdio::pipe(), .out = Stdio::pipe(), .err = Stdio::inherit()});
  write_all(p.stdin_fd(), "hello");
  p.close_stdin();
  EXPECT_EQ(read_all(p.stdout_fd()), "HELLO");
  EXPECT_TRUE(p.wait().success());
}

TEST(Subprocess, OutputRedirectsToAnFd) {
  TempDir dir("vmrt-test");
  UniqueFd file(::open((dir.path() / "log").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
  ASSERT_TRUE(file.valid());
  SpawnOptions o;
  o.out = o.err = Stdio::to_fd(file.get());
  EXPECT_TRUE(Subprocess::spawn({"sh", "-c", "echo out; echo err >&2"}, o).wait().success());
  std::ifstream in(dir.path() / "log");
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(in)), {}), "out\nerr\n");
}

// stdout=fd 2 and stderr=fd 1 swap the streams; installing them naively one
// after the other would send both to the same place. Runs in a forked helper
// whose own fds 1 and 2 are pipes the test reads.
TEST(Subprocess, SwappedStandardStreamsStaySwapped) {
  int one[2], two[2];
  ASSERT_EQ(::pipe2(one, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(two, O_CLOEXEC), 0);
  pid_t helper = fork();
  ASSERT_GE(helper, 0);
  if (helper == 0) {
    ::dup2(one[1], 1);
    ::dup2(two[1], 2);
    int rc = 1;
    try {
      rc = Subprocess::spawn({"sh", "-c", "echo to-out; echo to-err >&2"},
                             {.out = Stdio::to_fd(2), .err = Stdio::to_fd(1)})
                   .wait()
                   .success()
               ? 0
               : 1;
    } catch (...) {
    }
    _exit(rc);
  }
  ::close(one[1]);
  ::close(two[1]);
  UniqueFd r1(one[0]), r2(two[0]);
  int status;
  ASSERT_EQ(waitpid(helper, &status, 0), helper);
  EXPECT_EQ(status, 0);
  EXPECT_EQ(read_all(r1.get()), "to-err\n");
  EXPECT_EQ(read_all(r2.get()), "to-out\n");
}

TEST(Subprocess, CwdAndEnvironment) {
  TempDir dir("vmrt-test");
  ::setenv("VMRT_TEST_VAR", "old", 1);
  RunResult r = run_capture({"sh", "-c", "pwd; echo $VMRT_TEST_VAR"}, 10s,
                            {.extra_env = {"VMRT_TEST_VAR=new"}, .cwd = dir.path()});
  ::unsetenv("VMRT_TEST_VAR");
  EXPECT_EQ(r.out, std::filesystem::canonical(dir.path()).string() + "\nnew\n");
}

TEST(Subprocess, OnlyPassedDescriptorsReachTheChild) {
  int leaked = ::open("/dev/null", O_RDONLY);  // deliberately without O_CLOEXEC
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  UniqueFd r(fds[0]), w(fds[1]), leak(leaked);
  std::string script = fmt::format("echo passed >&{}; test -e /proc/self/fd/{}", w.get(), leaked);
  Subprocess p = Subprocess::spawn({"sh", "-c", script}, {.pass_fds = {w.get()}});
  ExitStatus s = p.wait();
  w.reset();
  EXPECT_EQ(read_all(r.get()), "passed\n");
  EXPECT_EQ(s.code, 1) << "an fd without O_CLOEXEC leaked into the child";
}

// containerd's logging binaries read fds 3 and 4 and signal on fd 5: extra
// descriptors arrive at those numbers in order, whatever numbers they had
// (here some of them are 3, 4 or 5 already, and in another order).
TEST(Subprocess, ExtraDescriptorsArriveAsThreeFourFive) {
  std::vector<UniqueFd> read_ends, write_ends;
  for (int i = 0; i < 3; ++i) {
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    read_ends.emplace_back(fds[0]);
    write_ends.emplace_back(fds[1]);
  }
  // fd i + 3 must be write_ends[2 - i]: reversed, so numbers cross over.
  SpawnOptions o;
  o.extra_fds = {write_ends[2].get(), write_ends[1].get(), write_ends[0].get()};
  Subprocess p = Subprocess::spawn({"sh", "-c", "echo three >&3; echo four >&4; echo five >&5"}, o);
  EXPECT_TRUE(p.wait().success());
  write_ends.clear();
  EXPECT_EQ(read_all(read_ends[2].get()), "three\n");
  EXPECT_EQ(read_all(read_ends[1].get()), "four\n");
  EXPECT_EQ(read_all(read_ends[0].get()), "five\n");
}

TEST(Subprocess, ChildStartsWithDefaultSignalDispositions) {
  struct sigaction ign {
  }, old{};
  ign.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ign, &old);
  RunResult r = run_capture({"grep", "SigIgn", "/proc/self/status"}, 10s);
  ::sigaction(SIGPIPE, &old, nullptr);
  EXPECT_EQ(r.out, "SigIgn:\t0000000000000000\n");
}

TEST(Subprocess, ANewProcessGroupIsKilledWhole) {
  pid_t grandchild;
  {
    Subprocess p = Subprocess::spawn({"sh", "-c", "sleep 30 & echo $!; wait"},
                                     {.out = Stdio::pipe(), .new_process_group = true});
    EXPECT_EQ(::getpgid(p.pid()), p.pid());
    auto line = read_line(p.stdout_fd(), 32);
    ASSERT_TRUE(line);
    grandchild = std::stoi(*line);
    EXPECT_EQ(::getpgid(grandchild), p.pid());
  }
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!dead(grandchild) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(dead(grandchild)) << "the group's other member survived";
}

TEST(RunCapture, CollectsBothStreamsAndEnvironment) {
  RunResult r =
      run_capture({"sh", "-c", "echo out-$VMRT_X; echo err >&2; exit 4"}, 10s, {{"VMRT_X=1"}});
  EXPECT_EQ(r.out, "out-1\n");
  EXPECT_EQ(r.err, "err\n");
  EXPECT_EQ(r.status.code, 4);
  EXPECT_FALSE(r.timed_out);
}

// Each stream is far larger than a pipe buffer, so a reader that drained
// stdout to its end before stderr would deadlock here.
TEST(RunCapture, ReadsLargeOutputOnBothStreams) {
  RunResult r = run_capture(
      {"sh", "-c", "head -c 1000000 /dev/zero >&2; head -c 1000000 /dev/zero; exit 0"}, 30s);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.out.size(), 1000000u);
  EXPECT_EQ(r.err.size(), 1000000u);
}

TEST(RunCapture, KillsAChildThatOutlivesTheTimeout) {
  RunResult r = run_capture({"sleep", "30"}, 100ms);
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.status.signal, SIGKILL);
  auto start = std::chrono::steady_clock::now();
  r = run_capture({"sh", "-c", "exec >&- 2>&-; sleep 30"}, 200ms);
  EXPECT_TRUE(r.timed_out) << "a child that closed its output was waited for without limit";
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_TRUE(no_children());
}

}  // namespace
}  // namespace vmrt
