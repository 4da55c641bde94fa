// containerd end to end through ctr, once with runc's shim and once with
// vmrt's: the same commands must give the same answers (output, exit codes,
// task states, metrics), and leave nothing behind.

#include <fcntl.h>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>

#include "common/error.h"
#include "common/fd.h"
#include "common/tempdir.h"
#include "tests/rig/containerd/containerd_harness.h"
#include "tests/rig/containerd/ctr_fixture.h"
#include "tests/rig/support/host_state.h"

namespace vmrt::containerd_test {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using namespace std::chrono_literals;

// cgroup v2 metrics (containerd's v2.Metrics) are what a vmrt guest has,
// and what runc reports where the host mounts cgroup2 at /sys/fs/cgroup
// (inside the rig; hybrid v1 hosts get v1.Metrics instead).
bool host_has_cgroup2() {
  struct statfs fs {};
  return ::statfs("/sys/fs/cgroup", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC;
}

// `ctr task metrics` prints a table of "NAME  VALUE" rows.
std::map<std::string, std::string> metric_table(const std::string& out) {
  std::map<std::string, std::string> table;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string name, value;
    if (fields >> name >> value) table[name] = value;
  }
  return table;
}

long long number_or_minus_one(const std::string& text) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) return -1;
  return std::stoll(text);
}

TEST_P(Ctr, RunPrintsOutputAndReturnsTheExitCode) {
  std::string cid = id("run-exit");
  RunResult r = c().ctr(run_args({"--rm"}, cid, {"sh", "-c", "echo hello; echo oops >&2; exit 7"}));
  EXPECT_EQ(r.status.code, 7) << details(r);
  EXPECT_EQ(r.out, "hello\n") << details(r);
  EXPECT_THAT(r.err, HasSubstr("oops\n"));
  // --rm deleted the container after its task.
  RunResult ls = c().ctr({"containers", "list", "--quiet"});
  EXPECT_THAT(ls.out, ::testing::Not(HasSubstr(cid))) << details(ls);
}

TEST_P(Ctr, AMissingProgramFailsTheRunWithItsNameAndLeavesNothing) {
  std::string cid = id("no-such-program");
  RunResult r = c().ctr(run_args({"--rm"}, cid, {"/no/such/program"}), "", 120s);
  EXPECT_FALSE(r.timed_out) << details(r);
  EXPECT_NE(r.status.code, 0) << details(r);
  EXPECT_THAT(r.err, HasSubstr("/no/such/program")) << details(r);
  // The task is gone (ctr run --rm deletes the container too).
  EXPECT_FALSE(c().task(cid)) << "the failed task stayed";
  c().ctr({"containers", "delete", cid}, "", 60s);
}

TEST_P(Ctr, RunForwardsStdinUntilItsEnd) {
  // More than a pipe buffer, then end of file: cat must see both.
  std::string input;
  for (int i = 0; input.size() < 200000; ++i) input += fmt::format("line {}\n", i);
  RunResult r = c().ctr(run_args({"--rm"}, id("stdin"), {"cat"}), input);
  EXPECT_TRUE(r.status.success()) << details(r);
  EXPECT_EQ(r.out.size(), input.size());
  EXPECT_TRUE(r.out == input) << "cat's output differs from its input";
}

// ctr's (and nerdctl's) --log-uri: the task's stdout and stderr go to one
// file, or to a logging program (stdout on fd 3, stderr on fd 4, ready on fd
// 5, CONTAINER_ID and CONTAINER_NAMESPACE in its environment), the same with
// runc's shim and vmrt's.
TEST_P(Ctr, LogUrisSendTheOutputToAFileOrALoggingProgram) {
  TempDir dir("ctr-logs");
  std::vector<std::string> script = {"sh", "-c", "echo out; echo err >&2"};
  auto log = dir.path() / "logs" / "task.log";
  RunResult f =
      c().ctr(run_args({"--rm", "--log-uri", "file://" + log.string()}, id("log-file"), script));
  EXPECT_TRUE(f.status.success()) << details(f);
  // The shim copies each stream to the file on its own, and runc's shim
  // has been seen to answer the task's exit before its copy of stderr
  // reached the file: wait for both a while.
  std::string both;
  for (auto deadline = std::chrono::steady_clock::now() + 10s;
       (both = vmrt::test::read_text(log)).size() < 8 &&
       std::chrono::steady_clock::now() < deadline;)
    std::this_thread::sleep_for(50ms);
  EXPECT_EQ(both.size(), 8u) << both;  // the two streams are copied apart: any order
  EXPECT_THAT(both, HasSubstr("out\n"));
  EXPECT_THAT(both, HasSubstr("err\n"));

  auto logger = dir.path() / "logger.sh";
  std::string d = dir.path().string();
  std::ofstream(logger) << "#!/bin/sh\n"
                           "trap '' TERM\n"  // SIGTERM comes as the streams close: finish first
                           "echo \"$CONTAINER_NAMESPACE $CONTAINER_ID $1=$2\" > "
                        << d << "/env\nexec 5>&-\n/bin/cat <&3 > " << d << "/out &\n/bin/cat <&4 > "
                        << d << "/err\nwait\n";
  std::filesystem::permissions(logger, std::filesystem::perms(0755));
  std::string cid = id("log-binary");
  RunResult b = c().ctr(
      run_args({"--rm", "--log-uri", "binary://" + logger.string() + "?tag=web"}, cid, script));
  EXPECT_TRUE(b.status.success()) << details(b);
  EXPECT_EQ(vmrt::test::read_text(dir.path() / "out"), "out\n");
  EXPECT_EQ(vmrt::test::read_text(dir.path() / "err"), "err\n");
  EXPECT_EQ(vmrt::test::read_text(dir.path() / "env"), "vmrt-test " + cid + " tag=web\n");
}

TEST_P(Ctr, DetachedTaskExecPauseMetricsKillDelete) {
  // The reference cannot run this in the rig (see in_a_chroot()).
  if (runtime() == kRuncRuntime && vmrt::test::in_a_chroot())
    GTEST_SKIP() << "runc exec does not find the container's root from inside a chroot";
  std::string cid = id("detached");
  // Records SIGTERM without exiting, so that the default `ctr task kill`
  // can be seen to arrive before SIGKILL ends the task.
  RunResult r = c().ctr(run_args({"--detach"}, cid,
                                 {"sh", "-c",
                                  "trap 'touch /got-term' TERM; echo started > /started; "
                                  "while :; do sleep 1; done"}));
  ASSERT_TRUE(r.status.success()) << details(r);
  // Until it polls for `test ARGS` in the task succeeds (each try its own
  // exec id): the task's shell may not have run its first command yet when
  // ctr run --detach returns, nor its trap when kill returns.
  int tries = 0;
  auto wait_for_test = [&](const std::vector<std::string>& test_args) {
    RunResult seen;
    for (auto deadline = std::chrono::steady_clock::now() + 60s;
         std::chrono::steady_clock::now() < deadline;) {
      std::vector<std::string> argv = {"task", "exec", "--exec-id", fmt::format("probe{}", tries++),
                                       cid,    "test"};
      argv.insert(argv.end(), test_args.begin(), test_args.end());
      seen = c().ctr(argv);
      if (seen.status.success()) break;
      std::this_thread::sleep_for(500ms);
    }
    return seen;
  };
  RunResult started = wait_for_test({"-e", "/started"});
  ASSERT_TRUE(started.status.success()) << "the task never wrote /started: " << details(started);

  std::optional<TaskInfo> task = c().task(cid);
  ASSERT_TRUE(task) << "no task in `ctr task ls` for " << cid;
  EXPECT_EQ(task->status, "RUNNING");
  EXPECT_GT(task->pid, 0);

  // An exec's output, error output and exit code come back to ctr.
  r = c().ctr({"task", "exec", "--exec-id", "e1", cid, "sh", "-c",
               "cat /started; echo to stderr >&2; exit 3"});
  EXPECT_EQ(r.status.code, 3) << details(r);
  EXPECT_EQ(r.out, "started\n") << details(r);
  EXPECT_THAT(r.err, HasSubstr("to stderr\n"));

  r = c().ctr({"task", "pause", cid});
  EXPECT_TRUE(r.status.success()) << details(r);
  EXPECT_EQ(c().wait_task_status(cid, "PAUSED", 30s), "PAUSED");
  r = c().ctr({"task", "resume", cid});
  EXPECT_TRUE(r.status.success()) << details(r);
  EXPECT_EQ(c().wait_task_status(cid, "RUNNING", 30s), "RUNNING");

  r = c().ctr({"task", "metrics", cid});
  EXPECT_TRUE(r.status.success()) << details(r);
  auto metrics = metric_table(r.out);
  if (runtime() == kVmrtRuntime || host_has_cgroup2()) {
    EXPECT_GT(number_or_minus_one(metrics["memory.usage"]), 0) << r.out;
    EXPECT_GE(number_or_minus_one(metrics["cpu.usage_usec"]), 0) << r.out;
    EXPECT_GE(number_or_minus_one(metrics["pids.current"]), 1) << r.out;
  } else {
    EXPECT_GT(number_or_minus_one(metrics["memory.usage_in_bytes"]), 0) << r.out;
    EXPECT_GE(number_or_minus_one(metrics["cpuacct.usage"]), 0) << r.out;
  }

  // SIGTERM by default: the trap runs, the task goes on.
  r = c().ctr({"task", "kill", cid});
  EXPECT_TRUE(r.status.success()) << details(r);
  RunResult seen = wait_for_test({"-e", "/got-term"});
  EXPECT_TRUE(seen.status.success()) << "SIGTERM did not reach the task: " << details(seen);
  EXPECT_EQ(c().wait_task_status(cid, "RUNNING", 5s), "RUNNING");

  r = c().ctr({"task", "kill", "--signal", "SIGKILL", cid});
  EXPECT_TRUE(r.status.success()) << details(r);
  EXPECT_EQ(c().wait_task_status(cid, "STOPPED"), "STOPPED");

  // ctr reports a non-zero exit status of the deleted task as a warning.
  r = c().ctr({"task", "delete", cid});
  EXPECT_TRUE(r.status.success()) << details(r);
  EXPECT_THAT(r.err, HasSubstr("exit code 137"));
  EXPECT_FALSE(c().task(cid));
  r = c().ctr({"containers", "delete", cid});
  EXPECT_TRUE(r.status.success()) << details(r);
}

TEST_P(Ctr, RunWithATerminal) {
  // ctr -t needs its stdin to be a terminal: a pty whose size ctr passes on
  // to the container's terminal with a resize right after the start, which
  // the container waits for rather than racing it (busybox's `stty size`
  // prints nothing while the size is 0x0).
  int master_fd = -1, slave_fd = -1;
  winsize size{.ws_row = 30, .ws_col = 90};
  ASSERT_EQ(::openpty(&master_fd, &slave_fd, nullptr, nullptr, &size), 0);
  UniqueFd master(master_fd), slave(slave_fd);
  SpawnOptions o;
  o.in = o.out = o.err = Stdio::to_fd(slave.get());
  Subprocess ctr =
      c().spawn_ctr(run_args({"--rm", "--tty"}, id("tty"),
                             {"sh", "-c",
                              "tty; i=0; s=; while { [ -z \"$s\" ] || [ \"$s\" = '0 0' ]; } && "
                              "[ $i -lt 300 ]; do sleep 0.1; s=$(stty size 2>/dev/null); "
                              "i=$((i+1)); done; echo size $s; exit 5"}),
                    o);
  slave.reset();

  // Read until ctr, the slave's only holder, exits (EIO), within its time.
  std::string output;
  auto deadline = std::chrono::steady_clock::now() + 120s;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{master.get(), POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    char buf[4096];
    ssize_t n = ::read(master.get(), buf, sizeof buf);
    if (n <= 0) break;
    output.append(buf, static_cast<size_t>(n));
  }
  std::optional<ExitStatus> status = ctr.wait_for(10s);
  ASSERT_TRUE(status) << "ctr run --tty did not finish; output: " << output;
  EXPECT_EQ(status->code, 5) << status->to_string() << "; output: " << output;
  EXPECT_THAT(output, HasSubstr("/dev/pts/"));
  EXPECT_THAT(output, HasSubstr("size 30 90"));
}

INSTANTIATE_TEST_SUITE_P(Runtimes, Ctr, ::testing::Values(kRuncRuntime, kVmrtRuntime),
                         [](const auto& info) { return runtime_label(info.param); });

// The harness's own images, with runc: the pause image CRI sandboxes run
// stops on SIGTERM, as CRI's StopPodSandbox expects.
class TestImages : public ::testing::Test, protected ContainerdSuite {
 protected:
  static void SetUpTestSuite() { start("TestImages"); }
  static void TearDownTestSuite() { stop(); }
  void SetUp() override { set_up(); }
  void TearDown() override { tear_down(HasFailure()); }
};

TEST_F(TestImages, PauseStopsOnSigterm) {
  Containerd& c = *containerd();
  std::string cid = container("pause", kRuncRuntime);
  RunResult r = c.ctr({"run", "--detach", kPauseImage, cid});
  ASSERT_TRUE(r.status.success()) << details(r);
  EXPECT_EQ(c.wait_task_status(cid, "RUNNING"), "RUNNING");
  r = c.ctr({"task", "kill", cid});
  EXPECT_TRUE(r.status.success()) << details(r);
  EXPECT_EQ(c.wait_task_status(cid, "STOPPED", 30s), "STOPPED");
  r = c.ctr({"task", "delete", cid});
  EXPECT_TRUE(r.status.success()) << details(r);
  EXPECT_THAT(r.err, ::testing::Not(HasSubstr("exit code")));
}

}  // namespace
}  // namespace vmrt::containerd_test
