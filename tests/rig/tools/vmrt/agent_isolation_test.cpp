// A container's root against the guest's agent, in a real sandbox VM: the
// agent's vsock port serves the host alone, and the agent's copies that
// become container processes cannot be read or traced before their execve.
// The attacker is a static probe (agent_probe.c) run in the container.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "sandbox/agent_client.h"
#include "tests/rig/support/host_state.h"
#include "tests/rig/tools/vmrt/vmrt_cli.h"

namespace vmrt::cli::test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using vmrt::test::read_text;
using namespace std::chrono_literals;

// The lines of `text` that start with `prefix` and contain `part`.
std::vector<std::string> lines_starting(const std::string& text, const std::string& prefix,
                                        const std::string& part = "") {
  std::vector<std::string> found;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.starts_with(prefix) && line.find(part) != std::string::npos) found.push_back(line);
  return found;
}

class VmrtAgentIsolation : public ::testing::Test {
 protected:
  void TearDown() override {
    if (!HasFailure()) {
      EXPECT_THAT(cli_.leftovers(), IsEmpty());
    }
  }
  // Container `id` running `sleep`, with the probe at /agent_probe; its
  // bundle's config.json is the default spec (root as container root).
  fs::path run_with_probe(const std::string& id) {
    fs::path b = cli_.bundle(id, {"sleep", "1000"});
    fs::copy_file(VMRT_TEST_AGENT_PROBE, b / "rootfs/agent_probe");
    EXPECT_TRUE(cli_.detached_ok({"run", "-d", "-b", b.string(), id}));
    return b;
  }
  VmrtCli cli_;
};

// Through vsock loopback (CID 1, the guest's own CID 3) a container process
// would reach the agent's port; the guest kernel has no loopback, so each
// connect fails, and a connection that did reach the agent would be closed
// before any reply and the refusal logged on the guest console. CID 2 is the
// host, where nothing listens on the agent's port; VMADDR_CID_ANY is no peer.
TEST_F(VmrtAgentIsolation, AContainerCannotCallTheAgentOverVsock) {
  run_with_probe("v");
  RunResult r = cli_.run({"exec", "v", "/agent_probe", "vsock"}, "", 420s);
  EXPECT_TRUE(r.status.success()) << r.status.to_string() << " " << r.err;
  EXPECT_THAT(r.out, HasSubstr("PROBE DONE")) << r.err;
  EXPECT_THAT(r.out, Not(HasSubstr("REPLY")));
  std::string console = read_text(cli_.record("v").value("console_log", ""));
  for (unsigned cid : {1u, 2u, 3u, 4294967295u}) {
    auto lines = lines_starting(r.out, fmt::format("cid {}: ", cid));
    ASSERT_EQ(lines.size(), 1u) << r.out;
    const std::string& line = lines[0];
    bool refused_at_connect = line.find("connect failed") != std::string::npos;
    bool closed_unserved = line.find("closed without a reply") != std::string::npos;
    EXPECT_TRUE(refused_at_connect || closed_unserved) << line;
    if (closed_unserved) {
      EXPECT_THAT(console, HasSubstr("refused a vsock connection from CID")) << line;
    }
  }
  // The agent still serves the host.
  r = cli_.run({"exec", "v", "echo", "served"});
  EXPECT_EQ(r.out, "served\n") << r.err;
  r = cli_.run({"delete", "--force", "v"});
  EXPECT_TRUE(r.status.success()) << r.err;
}

// A second container joins the first one's pid namespace (as a pod's
// containers share one) and is created, not started: its init is a copy of
// the agent blocked before execve, with the container's user and
// capabilities and no seccomp yet. The first container's root, with the
// same credentials, reads the memory of and attaches to its own init (the
// probe works), but gets neither into the agent's copy.
TEST_F(VmrtAgentIsolation, AContainerCannotTraceTheAgentsCopyBeforeExecve) {
  fs::path bundle = run_with_probe("m");
  nlohmann::json record = cli_.record("m");
  auto agent = sandbox::AgentClient::connect(record.value("vm_socket", ""));

  nlohmann::json spec = nlohmann::json::parse(read_text(bundle / "config.json"));
  spec["process"]["args"] = {"sleep", "1000"};
  for (auto& ns : spec["linux"]["namespaces"])
    if (ns["type"] == "pid")
      ns["path"] = fmt::format("/proc/{}/ns/pid", record.value("init_pid", 0u));
  sandbox::v1::CreateContainerRequest create;
  create.set_container_id("waiting");
  create.set_oci_spec_json(spec.dump());
  create.set_rootfs("m/rootfs");  // the first container's, in the share
  // As the sandbox asks for a read-only root: the share's copy of the rootfs
  // is read-only on the host, so its mount points come from an overlay.
  create.set_overlay_rootfs(spec["root"].value("readonly", false));
  agent.create_container(create);

  RunResult r = cli_.run({"exec", "m", "/agent_probe", "mem"}, "", 420s);
  EXPECT_TRUE(r.status.success()) << r.status.to_string() << " " << r.err;
  EXPECT_THAT(r.out, HasSubstr("PROBE DONE")) << r.err;
  // The control: the container's own init, dumpable after its execve.
  auto own = lines_starting(r.out, "pid 1 (sleep): ");
  ASSERT_EQ(own.size(), 1u) << r.out;
  EXPECT_THAT(own[0], HasSubstr("mem: read 16 bytes"));
  EXPECT_THAT(own[0], HasSubstr("ptrace: attached"));
  // The agent's copy (named after the agent, /init, until its execve).
  auto copy = lines_starting(r.out, "pid ", " (init): ");
  ASSERT_EQ(copy.size(), 1u) << r.out;
  EXPECT_THAT(copy[0], HasSubstr("mem: Permission denied"));
  EXPECT_THAT(copy[0], HasSubstr("ptrace: Operation not permitted"));

  sandbox::v1::RemoveContainerRequest remove;
  remove.set_container_id("waiting");
  remove.set_force(true);
  agent.remove_container(remove);
  r = cli_.run({"delete", "--force", "m"});
  EXPECT_TRUE(r.status.success()) << r.err;
}

}  // namespace
}  // namespace vmrt::cli::test
