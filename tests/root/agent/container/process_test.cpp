// The spec's process, checked from inside: capabilities, no_new_privs,
// seccomp, rlimits, user and groups, env and cwd, stdin and a terminal.

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

TEST_F(ContainerTest, CapabilitiesAndNoNewPrivs) {
  Run r =
      sh("grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' /proc/self/status");
  ASSERT_TRUE(r.status.success()) << r.err;
  // CAP_KILL (5), CAP_NET_BIND_SERVICE (10), CAP_AUDIT_WRITE (29).
  const std::string set = "0000000020000420";
  EXPECT_EQ(r.out, "CapInh:\t0000000000000000\nCapPrm:\t" + set + "\nCapEff:\t" + set +
                       "\nCapBnd:\t" + set +
                       "\nCapAmb:\t0000000000000000\nNoNewPrivs:\t1\nSeccomp:\t0\n")
      << r.out;
}

TEST_F(ContainerTest, AmbientCapabilitiesForNonRoot) {
  bundle.config["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
  bundle.config["process"]["noNewPrivileges"] = false;
  bundle.config["process"]["capabilities"]["inheritable"] = {"CAP_NET_BIND_SERVICE"};
  Run r = sh("grep -E '^(CapEff|CapAmb|NoNewPrivs):' /proc/self/status");
  ASSERT_TRUE(r.status.success()) << r.err;
  EXPECT_EQ(r.out, "CapEff:\t0000000000000400\nCapAmb:\t0000000000000400\nNoNewPrivs:\t0\n");
}

TEST_F(ContainerTest, SeccompBlockedSyscallGivesEperm) {
  bundle.config["linux"]["seccomp"] = {
      {"defaultAction", "SCMP_ACT_ALLOW"},
      {"architectures", {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}},
      {"syscalls",
       {{{"names", {"mkdir", "mkdirat"}}, {"action", "SCMP_ACT_ERRNO"}},
        {{"names", {"sethostname"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 38}}}}};
  bundle.config["root"]["readonly"] = false;
  Run r = sh("mkdir /tmp/d 2>&1; hostname foo 2>&1; grep Seccomp: /proc/self/status");
  EXPECT_NE(r.out.find("Operation not permitted"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Function not implemented"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Seccomp:\t2"), std::string::npos) << r.out;
  // Without noNewPrivileges the filter is loaded while still privileged.
  bundle.config["process"]["noNewPrivileges"] = false;
  Run r2 = sh("mkdir /tmp/d 2>&1; grep NoNewPrivs: /proc/self/status");
  EXPECT_NE(r2.out.find("Operation not permitted"), std::string::npos) << r2.out;
  EXPECT_NE(r2.out.find("NoNewPrivs:\t0"), std::string::npos) << r2.out;
}

TEST_F(ContainerTest, Rlimits) {
  bundle.config["process"]["rlimits"].push_back(
      {{"type", "RLIMIT_CORE"}, {"hard", 4096}, {"soft", 1024}});
  Run r = sh("ulimit -n; ulimit -c; ulimit -H -c");
  ASSERT_TRUE(r.status.success()) << r.err;
  EXPECT_EQ(r.out, "1024\n2\n8\n");  // ulimit -c counts 512-byte blocks
}

TEST_F(ContainerTest, UserAndGroups) {
  bundle.config["process"]["user"] = {{"uid", 1000}, {"gid", 1001}, {"additionalGids", {10, 20}}};
  Run r = sh("grep -E '^(Uid|Gid|Groups):' /proc/self/status; umask");
  ASSERT_TRUE(r.status.success()) << r.err;
  EXPECT_EQ(r.out,
            "Uid:\t1000\t1000\t1000\t1000\nGid:\t1001\t1001\t1001\t1001\nGroups:\t10 20 \n0022\n");
}

TEST_F(ContainerTest, EnvAndCwd) {
  bundle.config["process"]["env"].push_back("FOO=bar baz");
  bundle.config["process"]["cwd"] = "/tmp";
  Run r = sh("echo \"$FOO\"; pwd; env | grep -c PATH=");
  ASSERT_TRUE(r.status.success()) << r.err;
  EXPECT_EQ(r.out, "bar baz\n/tmp\n1\n");
}

TEST_F(ContainerTest, StdinPiped) {
  bundle.set_args({"cat"});
  auto c = Container::create(options());
  c->start();
  ASSERT_EQ(::write(c->init().stdio().in.get(), "hello\n", 6), 6);
  c->init().stdio().in.reset();
  Output o = read_streams(c->init().stdio().out.get(), c->init().stdio().err.get());
  EXPECT_TRUE(c->wait().success());
  EXPECT_EQ(o.out, "hello\n");
}

TEST_F(ContainerTest, TerminalAllocated) {
  bundle.config["process"]["terminal"] = true;
  bundle.config["process"]["consoleSize"] = {{"height", 30}, {"width", 100}};
  bundle.set_args({"sh", "-c", "tty; stty size; read l; echo \"got $l\"; stty size"});
  auto c = Container::create(options());
  ASSERT_TRUE(c->init().stdio().terminal.valid());
  c->start();
  int master = c->init().stdio().terminal.get();
  std::string first = read_until(master, "30 100");
  EXPECT_NE(first.find("/dev/pts/0"), std::string::npos) << first;
  EXPECT_NE(first.find("30 100"), std::string::npos) << first;
  c->resize_terminal(40, 120);
  ASSERT_EQ(::write(master, "line\n", 5), 5);
  Output o = read_streams(master, -1);
  EXPECT_NE(o.out.find("got line"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("40 120"), std::string::npos) << o.out;
  EXPECT_TRUE(c->wait().success());
}

}  // namespace
}  // namespace vmrt::agent
