// The container runtime on the host: each feature is checked from inside a
// busybox container. Needs root; cgroup v2 limits need a cgroup2 mount with
// controllers (the rig has one: VMRT_REQUIRE_CGROUP_CONTROLLERS=1 turns
// their absence into a failure there). Here: init, exit codes, signals,
// exec, setup errors and what destroy leaves behind.

#include "agent/container/container.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/error.h"
#include "tests/root/agent/container/bundle.h"
#include "tests/root/agent/container/container_fixture.h"
#include "tests/support/error_text.h"

namespace vmrt::agent {
namespace {

using namespace container_test;

TEST_F(ContainerTest, InitIsPid1AndSeesItsHostname) {
  Run r = sh("echo $$; hostname");
  EXPECT_TRUE(r.status.success()) << r.status.to_string() << r.err;
  EXPECT_EQ(r.out, "1\nrunc\n");
}

TEST_F(ContainerTest, ExitCodes) {
  EXPECT_EQ(sh("exit 0").status.code, 0);
  Run three = sh("exit 3");
  EXPECT_TRUE(three.status.exited);
  EXPECT_EQ(three.status.code, 3);
}

TEST_F(ContainerTest, KilledBySigkill) {
  bundle.set_args({"sleep", "100"});
  auto c = Container::create(options());
  c->start();
  c->signal(SIGKILL);
  ExitStatus s = c->wait();
  EXPECT_FALSE(s.exited);
  EXPECT_EQ(s.signal, SIGKILL);  // a caller reports 128 + 9 = 137
}

TEST_F(ContainerTest, SignalAllReachesEveryProcess) {
  bundle.set_args({"sh", "-c", "sleep 100 & sleep 101 & echo started; wait"});
  auto c = Container::create(options());
  c->start();
  read_until(c->init().stdio().out.get(), "started");
  EXPECT_EQ(c->processes().size(), 3u);
  c->signal(SIGKILL, true);
  EXPECT_EQ(c->wait().signal, SIGKILL);
  for (int i = 0; i < 100 && !c->processes().empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(c->processes().empty());
}

TEST_F(ContainerTest, SignalsAreDelivered) {
  bundle.set_args({"sh", "-c",
                   "trap 'echo got TERM; exit 7' TERM; echo ready; "
                   "while :; do sleep 0.05; done"});
  auto c = Container::create(options());
  c->start();
  EXPECT_NE(read_until(c->init().stdio().out.get(), "ready").find("ready"), std::string::npos);
  c->signal(SIGTERM);
  Output o = read_streams(c->init().stdio().out.get(), -1);
  ExitStatus s = c->wait();
  EXPECT_EQ(o.out, "got TERM\n");
  EXPECT_TRUE(s.exited);
  EXPECT_EQ(s.code, 7);
}

TEST_F(ContainerTest, ExecIntoRunningContainer) {
  bundle.set_args({"sleep", "100"});
  auto c = Container::create(options());
  EXPECT_EQ(c->state(), Container::State::Created);
  c->start();
  EXPECT_EQ(c->state(), Container::State::Running);
  oci::Process p = c->spec().process.value();
  p.args = {"sh", "-c", "echo $$; cat /proc/1/cmdline | tr '\\0' ' '; echo; hostname; pwd; id -u"};
  p.cwd = "/tmp";
  p.user.uid = 123;
  auto e = c->exec(p, StdioConfig::pipes());
  Output o = read_streams(e->stdio().out.get(), e->stdio().err.get());
  EXPECT_TRUE(e->wait().success()) << o.err;
  EXPECT_EQ(o.out, "2\nsleep 100 \nrunc\n/tmp\n123\n");
  // with a terminal
  p.terminal = true;
  p.args = {"tty"};
  auto t = c->exec(p, StdioConfig::terminal());
  Output to = read_streams(t->stdio().terminal.get(), -1);
  EXPECT_TRUE(t->wait().success());
  EXPECT_NE(to.out.find("/dev/pts/"), std::string::npos) << to.out;
  // exit status of an exec'd process, and processes()
  p.terminal = false;
  p.args = {"sh", "-c", "exit 5"};
  auto x = c->exec(p, StdioConfig::null());
  EXPECT_EQ(x->wait().code, 5);
  auto procs = c->processes();
  EXPECT_EQ(procs, std::vector<pid_t>{c->pid()});
}

TEST_F(ContainerTest, SetupErrorsNameTheStep) {
  bundle.config["process"]["cwd"] = "/no/such/dir";
  std::string e = error_text([&] { Container::create(options()); });
  EXPECT_NE(e.find("changing to the working directory /no/such/dir: No such file or directory"),
            std::string::npos)
      << e;
  bundle.config["process"]["cwd"] = "/";
  bundle.set_args({"no-such-program"});
  auto c = Container::create(options("-exec"));
  e = error_text([&] { c->start(); });
  EXPECT_NE(e.find("executing no-such-program: No such file or directory"), std::string::npos) << e;
  EXPECT_EQ(c->state(), Container::State::Stopped);
}

// What the host has of a container after destroy: its processes, mounts,
// cgroup, state directory.
TEST_F(ContainerTest, NothingLeftAfterDestroy) {
  const std::vector<fs::path> ours = {bundle.dir(), state.path()};
  std::string mounts_before = mounts_naming(ours);
  bundle.config["root"]["readonly"] = false;
  auto o = options();
  o.overlay_rootfs = true;
  bundle.set_args({"sh", "-c", "sleep 100 & sleep 100"});
  o.spec = oci::parse_spec(bundle.config);
  auto c = Container::create(std::move(o));
  c->start();
  oci::Process p = c->spec().process.value();
  p.args = {"sleep", "200"};
  auto e = c->exec(p, StdioConfig::null());
  fs::path cgroup = c->cgroup_path();
  fs::path state_dir = state.path() / c->id();
  pid_t init = c->pid();
  ASSERT_TRUE(fs::exists(cgroup));
  ASSERT_TRUE(fs::exists(state_dir));
  c->destroy();
  EXPECT_FALSE(fs::exists(cgroup));
  EXPECT_FALSE(fs::exists(state_dir));
  EXPECT_EQ(::kill(init, 0), -1);
  EXPECT_EQ(e->wait().signal, SIGKILL);
  EXPECT_EQ(mounts_naming(ours), mounts_before);
  // A failed create leaves nothing either.
  bundle.config["process"]["cwd"] = "/no/such/dir";
  auto o2 = options("-failed");
  EXPECT_THROW(Container::create(std::move(o2)), Error);
  EXPECT_FALSE(fs::exists(cgroup.parent_path() / (id() + "-failed")));
  EXPECT_FALSE(fs::exists(state.path() / (id() + "-failed")));
  EXPECT_TRUE(fs::is_empty(state.path()));
}

TEST_F(ContainerTest, DestructorDestroys) {
  fs::path cgroup;
  {
    bundle.set_args({"sleep", "100"});
    auto c = Container::create(options());
    c->start();
    cgroup = c->cgroup_path();
  }
  EXPECT_FALSE(fs::exists(cgroup));
}

}  // namespace
}  // namespace vmrt::agent
