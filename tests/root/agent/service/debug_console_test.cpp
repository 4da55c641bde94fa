// ExecProcess's guest target (the debug console) against the real agent:
// refused unless CreateSandbox allowed it, whatever else the request says;
// once allowed, the process runs in the agent's own namespaces, outside the
// container it is reached through, with the usual stdio and exit.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/root/agent/service/agent_service_fixture.h"

namespace vmrt::agent::test {
namespace {

using ::testing::HasSubstr;

v1::ExecProcessRequest guest_exec(const std::string& id, const std::string& exec_id,
                                  const std::string& script) {
  v1::ExecProcessRequest req;
  req.set_container_id(id);
  req.set_exec_id(exec_id);
  nlohmann::json p = {{"args", {kBusybox, "sh", "-c", script}}, {"cwd", "/"}};
  req.set_oci_process_json(p.dump());
  req.set_guest(true);
  return req;
}

std::string ns_of(pid_t pid, const char* ns) {
  return std::filesystem::read_symlink(fmt::format("/proc/{}/ns/{}", pid, ns)).string();
}

// The fixture's sandbox is created without debug_console.
TEST_F(AgentServiceHost, DebugConsoleIsRefusedUnlessTheSandboxAllowsIt) {
  run("c1", {kBusybox, "sleep", "100"});
  v1::ExecProcessResponse r;
  CallStatus s = stub().ExecProcess(10s, guest_exec("c1", "e1", "touch /tmp/no"), &r);
  EXPECT_EQ(s.error_code(), Code::PermissionDenied);
  EXPECT_THAT(s.error_message(), HasSubstr("debug console is off"));
  // Refused before anything else is looked at: an unknown container, a
  // malformed process.
  auto other = guest_exec("nope", "e2", "true");
  other.set_oci_process_json("{");
  EXPECT_EQ(stub().ExecProcess(10s, other, &r).error_code(), Code::PermissionDenied);
  // Nothing was started under the exec id.
  v1::WaitProcessRequest wr;
  wr.set_container_id("c1");
  wr.set_exec_id("e1");
  v1::WaitProcessResponse w;
  EXPECT_EQ(stub().WaitProcess(10s, wr, &w).error_code(), Code::NotFound);
  // The container's own exec is unchanged.
  auto plain = guest_exec("c1", "e3", "exit 3");
  plain.set_guest(false);
  ASSERT_TRUE(stub().ExecProcess(10s, plain, &r).ok());
  EXPECT_EQ(agent().wait("c1", "e3").status(), 3);
}

TEST(AgentServiceHostDebugConsole, RunsOutsideTheContainerWhenAllowed) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  AgentUnderTest agent;
  v1::HealthResponse h;
  ASSERT_TRUE(agent.stub().Health(10s, {}, &h).ok());
  EXPECT_GE(h.api_version(), 5u) << "the guest target came with api_version 5";
  v1::CreateSandboxRequest sr;
  sr.mutable_shared_fs()->set_mount_point(agent.shared().string());
  sr.set_debug_console(true);
  v1::CreateSandboxResponse sresp;
  CallStatus s = agent.stub().CreateSandbox(10s, sr, &sresp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  v1::CreateContainerResponse cr;
  ASSERT_TRUE(agent.create("c1", {kBusybox, "sleep", "100"}, false, false, &cr).ok());
  ASSERT_TRUE(agent.start("c1").ok());

  v1::ExecProcessResponse r;
  s = agent.stub().ExecProcess(
      10s,
      guest_exec("c1", "e1",
                 "readlink /proc/self/ns/pid; readlink /proc/self/ns/mnt; id -u; exit 7"),
      &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  std::string out = agent.output("c1", v1::STDOUT, "e1");
  std::string agent_ns = ns_of(agent.pid(), "pid") + "\n" + ns_of(agent.pid(), "mnt") + "\n0\n";
  EXPECT_EQ(out, agent_ns) << "the agent's namespaces, as root";
  EXPECT_NE(ns_of(cr.pid(), "pid"), ns_of(agent.pid(), "pid")) << "the container has its own";
  EXPECT_NE(ns_of(cr.pid(), "mnt"), ns_of(agent.pid(), "mnt"));
  EXPECT_EQ(agent.wait("c1", "e1").status(), 7);

  // With a terminal of its own, as an interactive console has.
  auto tty = guest_exec("c1", "e3", "tty; exit 0");
  tty.mutable_stdio()->set_terminal(true);
  s = agent.stub().ExecProcess(10s, tty, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_THAT(agent.output("c1", v1::STDOUT, "e3"), HasSubstr("/dev/pts/"));
  EXPECT_EQ(agent.wait("c1", "e3").status(), 0);

  // An image without the program is named as the problem.
  auto missing = guest_exec("c1", "e4", "true");
  missing.set_oci_process_json(R"({"args": ["/no/such/sh"], "cwd": "/"})");
  s = agent.stub().ExecProcess(10s, missing, &r);
  EXPECT_EQ(s.error_code(), Code::FailedPrecondition);
  EXPECT_THAT(s.error_message(), HasSubstr("the guest image has no /no/such/sh"));

  // Killed with the container it was reached through.
  s = agent.stub().ExecProcess(10s, guest_exec("c1", "e2", "sleep 100"), &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  pid_t console = static_cast<pid_t>(r.pid());
  EXPECT_TRUE(process_exists(console));
  ASSERT_TRUE(agent.remove("c1").ok());
  for (int i = 0; i < 100 && process_exists(console); ++i) ::usleep(50'000);
  EXPECT_FALSE(process_exists(console));
}

}  // namespace
}  // namespace vmrt::agent::test
