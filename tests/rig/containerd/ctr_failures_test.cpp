// containerd end to end through ctr when a shim, a VMM or containerd itself
// goes away: what containerd and ctr see must be what they see with runc,
// and nothing may be left behind.

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

// `ctr events` in the background, its lines in a file: what containerd
// published (each line: time, namespace, topic, the event as JSON).
class EventLog {
 public:
  explicit EventLog(const Containerd& c) : path_(c.dir() / fmt::format("events.{}", serial_++)) {
    UniqueFd out(check_sys(::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644),
                           "create " + path_.string()));
    SpawnOptions o;
    o.out = o.err = Stdio::to_fd(out.get());
    ctr_.emplace(c.spawn_ctr({"events"}, o));
    // Subscribed once an event of our own making shows up: a namespace label.
    for (int i = 0; i < 100 && !live_; ++i) {
      c.ctr({"namespaces", "label", c.ns(), fmt::format("vmrt-test-probe={}", i)}, "", 30s);
      live_ = !line_with({"/namespaces/update"}).empty();
      if (!live_) std::this_thread::sleep_for(300ms);
    }
  }
  bool live() const { return live_; }
  std::string text() const { return vmrt::test::read_text(path_); }

  // The first line holding every one of `words`, waiting up to `timeout`
  // for it; "" when none came.
  std::string wait_for(const std::vector<std::string>& words,
                       std::chrono::seconds timeout = 60s) const {
    for (auto deadline = std::chrono::steady_clock::now() + timeout;;) {
      std::string line = line_with(words);
      if (!line.empty() || std::chrono::steady_clock::now() > deadline) return line;
      std::this_thread::sleep_for(200ms);
    }
  }

 private:
  std::string line_with(const std::vector<std::string>& words) const {
    std::istringstream in(text());
    for (std::string line; std::getline(in, line);) {
      bool all = true;
      for (const auto& w : words) all = all && line.find(w) != std::string::npos;
      if (all) return line;
    }
    return "";
  }

  std::filesystem::path path_;
  std::optional<Subprocess> ctr_;
  bool live_ = false;
  static inline int serial_ = 0;
};

TEST_P(Ctr, TasksStayReachableAcrossAContainerdRestart) {
  std::string cid = id("restart");
  ASSERT_TRUE(start_looping_task(runtime(), cid));
  std::vector<int> shims = c().shim_pids();
  ASSERT_EQ(shims.size(), 1u);

  c().restart();
  // The same shim, found again through the task's bundle; the task runs on.
  EXPECT_EQ(c().shim_pids(), shims);
  EXPECT_EQ(c().wait_task_status(cid, "RUNNING", 30s), "RUNNING");
  if (runtime() == kVmrtRuntime || !vmrt::test::in_a_chroot()) {
    RunResult r =
        c().ctr({"task", "exec", "--exec-id", "after-restart", cid, "echo", "still here"});
    EXPECT_TRUE(r.status.success()) << details(r);
    EXPECT_EQ(r.out, "still here\n") << details(r);
  }
  // Events reach the new containerd: its kill, the exit, the delete.
  EventLog events(c());
  ASSERT_TRUE(events.live()) << events.text();
  RunResult r = c().ctr({"task", "kill", "--signal", "SIGKILL", cid});
  EXPECT_TRUE(r.status.success()) << details(r);
  EXPECT_EQ(c().wait_task_status(cid, "STOPPED"), "STOPPED");
  EXPECT_NE(events.wait_for({"/tasks/exit", cid, "\"exit_status\":137"}), "") << events.text();
  r = c().ctr({"task", "delete", cid});
  EXPECT_TRUE(r.status.success()) << details(r);
  EXPECT_THAT(r.err, HasSubstr("exit code 137"));
}

TEST_P(Ctr, AKilledShimIsCleanedUpByContainerd) {
  std::string cid = id("shim-killed");
  ASSERT_TRUE(start_looping_task(runtime(), cid));
  EventLog events(c());
  ASSERT_TRUE(events.live()) << events.text();
  std::vector<int> shims = c().shim_pids();
  ASSERT_EQ(shims.size(), 1u);
  ::kill(shims[0], SIGKILL);
  // containerd sees the shim's connection close, runs the shim binary's
  // `delete` in the bundle (which, for vmrt, stops what is left of the
  // VM), unmounts the rootfs, publishes the exit and drops the task.
  EXPECT_EQ(c().wait_task_status(cid, "(no task)", 60s), "(no task)");
  EXPECT_NE(events.wait_for({"/tasks/exit", cid, "\"exit_status\":137"}), "") << events.text();
  EXPECT_THAT(c().log(), HasSubstr("cleaning up after shim disconnected"));
  RunResult r = c().ctr({"containers", "delete", cid});
  EXPECT_TRUE(r.status.success()) << details(r);
  // A killed runc shim leaves its socket in containerd's socket directory
  // (neither containerd 1.6 nor the runc shim's delete removes it); vmrt's
  // socket is in the pod directory its delete removes. Then the leftover
  // check after the test: no shim, VMM, mount, socket or state.
  if (runtime() == kRuncRuntime) EXPECT_EQ(c().remove_stale_shim_sockets().size(), 1u);
}

class VmrtPodFailures : public ::testing::Test, protected ContainerdSuite {
 protected:
  static void SetUpTestSuite() { start("VmrtPodFailures"); }
  static void TearDownTestSuite() { stop(); }
  void SetUp() override { set_up(); }
  void TearDown() override { tear_down(HasFailure()); }
};

TEST_F(VmrtPodFailures, AVmmThatDiesEndsItsTasksWithStatus255AndAnExitEvent) {
  Containerd& c = *containerd();
  std::string cid = container("vmm-killed", kVmrtRuntime);
  ASSERT_TRUE(start_looping_task(kVmrtRuntime, cid));
  EventLog events(c);
  ASSERT_TRUE(events.live()) << events.text();
  std::vector<int> vmms = c.vmm_pids();
  ASSERT_EQ(vmms.size(), 1u);
  ::kill(vmms[0], SIGKILL);

  EXPECT_EQ(c.wait_task_status(cid, "STOPPED", 60s), "STOPPED");
  EXPECT_NE(events.wait_for({"/tasks/exit", cid, "\"exit_status\":255"}), "") << events.text();
  // The shim's log names the cause.
  EXPECT_THAT(c.log(), HasSubstr("vmrt-vmm killed by signal"));
  RunResult r = c.ctr({"task", "delete", cid});
  EXPECT_TRUE(r.status.success()) << details(r);
  EXPECT_THAT(r.err, HasSubstr("exit code 255"));
  r = c.ctr({"containers", "delete", cid});
  EXPECT_TRUE(r.status.success()) << details(r);
}

}  // namespace
}  // namespace vmrt::containerd_test
