#pragma once
// The agent service tests' fixture: vmrt-agent on a Unix socket with a
// sandbox created, and busybox containers run in it.

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <string>
#include <vector>

#include "tests/root/agent/service/agent_service_client.h"

namespace vmrt::agent::test {

inline const std::string kBusybox = "/bin/busybox";

inline std::vector<std::string> sh(const std::string& script) {
  return {kBusybox, "sh", "-c", script};
}

inline bool process_exists(pid_t pid) { return ::kill(pid, 0) == 0 || errno != ESRCH; }

class AgentServiceHost : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    agent_.emplace();
    ASSERT_TRUE(agent_->create_sandbox().ok());
  }
  AgentUnderTest& agent() { return *agent_; }
  AgentStub& stub() { return agent_->stub(); }

  // Creates and starts `args`; returns the init pid.
  pid_t run(const std::string& id, const std::vector<std::string>& args, bool terminal = false,
            bool open_stdin = false) {
    v1::CreateContainerResponse r;
    CallStatus s = agent().create(id, args, terminal, open_stdin, &r);
    EXPECT_TRUE(s.ok()) << s.error_message();
    s = agent().start(id);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return r.pid();
  }

  std::optional<AgentUnderTest> agent_;
};

}  // namespace vmrt::agent::test
