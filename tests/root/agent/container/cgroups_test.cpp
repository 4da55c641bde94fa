// The container's cgroup, checked from inside and from its files: freeze,
// stats, limits, update and OOM kills. Limits need cgroup v2 controllers.

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

#include "agent/container/container.h"
#include "common/error.h"
#include "tests/root/agent/container/bundle.h"
#include "tests/root/agent/container/container_fixture.h"
#include "tests/support/error_text.h"

namespace vmrt::agent {
namespace {

using namespace container_test;

TEST_F(ContainerTest, PauseAndResume) {
  bundle.set_args({"sh", "-c", "while :; do echo x; sleep 0.02; done"});
  auto c = Container::create(options());
  c->start();
  int out = c->init().stdio().out.get();
  read_until(out, "x");
  c->pause();
  EXPECT_EQ(c->state(), Container::State::Paused);
  EXPECT_NE(slurp(c->cgroup_path() / "cgroup.events").find("frozen 1"), std::string::npos);
  // Drain what was written before the freeze, then nothing more comes.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  char buf[4096];
  ::fcntl(out, F_SETFL, O_NONBLOCK);
  while (::read(out, buf, sizeof buf) > 0) {
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_LT(::read(out, buf, sizeof buf), 0);
  c->resume();
  EXPECT_EQ(c->state(), Container::State::Running);
  ::fcntl(out, F_SETFL, 0);
  EXPECT_NE(read_until(out, "x").find('x'), std::string::npos);
}

TEST_F(ContainerTest, StatsCpuAlways) {
  bundle.set_args({"sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done"});
  auto c = Container::create(options());
  c->start();
  c->wait();
  Stats s = c->stats();
  EXPECT_GT(s.cpu.usage_usec, 0u);
}

TEST_F(ContainerTest, CgroupLimitsSeenInside) {
  for (const char* ctl : {"memory", "pids", "cpu"}) {
    need_controller(ctl);
    if (IsSkipped() || HasFailure()) return;
  }
  bundle.config["linux"]["namespaces"].push_back({{"type", "cgroup"}});
  bundle.config["mounts"].push_back({{"destination", "/sys/fs/cgroup"},
                                     {"type", "cgroup"},
                                     {"source", "cgroup"},
                                     {"options", {"nosuid", "noexec", "nodev", "relatime", "ro"}}});
  bundle.config["linux"]["resources"] = {
      {"memory", {{"limit", 64 << 20}, {"swap", 96 << 20}}},
      {"cpu", {{"quota", 50000}, {"period", 100000}, {"shares", 512}}},
      {"pids", {{"limit", 32}}}};
  Run r =
      sh("cd /sys/fs/cgroup && cat memory.max memory.swap.max cpu.max cpu.weight pids.max; "
         "cat /proc/self/cgroup");
  ASSERT_TRUE(r.status.success()) << r.err;
  EXPECT_EQ(r.out, "67108864\n33554432\n50000 100000\n20\n32\n0::/\n");
}

TEST_F(ContainerTest, UpdateStatsAndOom) {
  for (const char* ctl : {"memory", "pids"}) {
    need_controller(ctl);
    if (IsSkipped() || HasFailure()) return;
  }
  bundle.config["linux"]["resources"] = {{"memory", {{"limit", 32 << 20}, {"swap", 32 << 20}}}};
  bundle.set_args({"sleep", "100"});
  auto c = Container::create(options());
  c->start();
  oci::Resources r;
  r.pids = oci::Pids{16};
  r.memory = oci::Memory{};
  r.memory->limit = 24 << 20;
  r.memory->swap = 24 << 20;
  c->update(r);
  EXPECT_EQ(slurp(c->cgroup_path() / "pids.max"), "16\n");
  EXPECT_EQ(slurp(c->cgroup_path() / "memory.max"), std::to_string(24 << 20) + "\n");
  Stats s = c->stats();
  ASSERT_TRUE(s.memory && s.pids);
  EXPECT_EQ(s.pids->max, 16u);
  EXPECT_EQ(s.memory->max, uint64_t(24 << 20));
  EXPECT_GT(s.memory->current, 0u);
  EXPECT_EQ(s.pids->current, 1u);
  ASSERT_GE(c->oom_event_fd(), 0);
  EXPECT_EQ(c->oom_kill_count(), 0u);
  // A process that needs more than the limit is OOM-killed, and told about.
  oci::Process p = c->spec().process.value();
  p.args = {"sh", "-c", "x=$(head -c 100000000 /dev/zero | tr '\\0' a); echo survived"};
  auto hog = c->exec(p, StdioConfig::null());
  ExitStatus hs = hog->wait();
  EXPECT_FALSE(hs.success()) << hs.to_string();
  pollfd pfd{c->oom_event_fd(), POLLIN, 0};
  EXPECT_EQ(::poll(&pfd, 1, 5000), 1);
  EXPECT_GE(c->oom_kill_count(), 1u);
}

}  // namespace
}  // namespace vmrt::agent
