// agent_service_bench RUNS RUNC_BUNDLE_DIR: for tools/bench/agent.sh.
// Starts vmrt-agent on a Unix socket, then RUNS times creates and starts a
// busybox `true` container through the API, timing CreateContainer +
// StartContainer, and waits for and removes it outside the timing. Writes
// the same bundle (config.json + rootfs) to RUNC_BUNDLE_DIR for runc.
// Prints one "agent_ms <ms>" line per run, then the agent's RSS.
#include <fstream>
#include <iostream>

#include "common/error.h"
#include "tests/root/agent/service/agent_service_client.h"
#include "tests/support/proc_status.h"

namespace vmrt::agent::test {
namespace {

int bench(int runs, const std::filesystem::path& runc_bundle) {
  std::vector<std::string> args = {"/bin/busybox", "true"};
  std::filesystem::create_directories(runc_bundle / "rootfs/bin");
  std::filesystem::copy_file("/bin/busybox", runc_bundle / "rootfs/bin/busybox",
                             std::filesystem::copy_options::overwrite_existing);
  std::ofstream(runc_bundle / "config.json") << spec_json(args);

  AgentUnderTest agent;
  CallStatus s = agent.create_sandbox();
  if (!s.ok()) fail("CreateSandbox: {}", s.error_message());
  for (int i = 0; i < runs; ++i) {
    std::string id = "bench" + std::to_string(i);
    agent.make_bundle(id);  // outside the timing, as runc's bundle is made once
    auto t0 = std::chrono::steady_clock::now();
    s = agent.create(id, args);
    if (s.ok()) s = agent.start(id);
    auto t1 = std::chrono::steady_clock::now();
    if (!s.ok()) fail("{}: {}", id, s.error_message());
    std::cout << "agent_ms " << std::chrono::duration<double, std::milli>(t1 - t0).count() << "\n";
    if (agent.wait(id).status() != 0) fail("{}: true failed", id);
    s = agent.remove(id);
    if (!s.ok()) fail("remove {}: {}", id, s.error_message());
  }
  std::cout << "agent_rss_kib " << vmrt::test::proc_status_kib(agent.pid(), "VmRSS") << "\n";
  std::cout << "agent_hwm_kib " << vmrt::test::proc_status_kib(agent.pid(), "VmHWM") << "\n";
  return 0;
}

}  // namespace
}  // namespace vmrt::agent::test

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: agent_service_bench RUNS RUNC_BUNDLE_DIR\n";
    return 2;
  }
  try {
    return vmrt::agent::test::bench(std::stoi(argv[1]), argv[2]);
  } catch (const std::exception& e) {
    std::cerr << "agent_service_bench: " << e.what() << "\n";
    return 1;
  }
}
