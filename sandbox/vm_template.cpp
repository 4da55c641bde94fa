#include "sandbox/vm_template.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <fstream>
#include <thread>

#include "common/error.h"
#include "common/fd.h"
#include "common/process.h"
#include "sandbox/agent_client.h"
#include "sandbox/file_tail.h"
#include "sandbox/vm_size.h"
#include "sandbox/vmm_command.h"
#include "sandbox/vmm_control.h"

namespace vmrt::sandbox {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// The agent's api_version that takes the clock, entropy and NIC address a
// restored VM needs at CreateSandbox: a template of an older image would
// leave pods sharing one random state.
constexpr uint32_t kAgentApiFreshStart = 3;
// Bumped when what a template holds changes meaning.
constexpr int kTemplateFormat = 2;

bool usable(const fs::path& dir, const json& inputs) {
  std::ifstream in(dir / "key.json");
  if (!in) return false;
  json stored = json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (stored != inputs) {
    spdlog::info("VM template {}: made from other files or settings; making it again",
                 dir.string());
    return false;
  }
  return fs::exists(dir / "state") && fs::exists(dir / "memory");
}

std::string logs_of(const fs::path& dir) {
  std::string out;
  if (std::string t = file_tail(dir / "vmm.log", 10); !t.empty())
    out += "\nvmrt-vmm log (last lines):\n" + t;
  if (std::string t = file_tail(dir / "console.log", 20); !t.empty())
    out += "\nguest console (last lines):\n" + t;
  return out;
}

// Waits until the template VM's agent answers, then lets the connection go:
// a snapshot holds no open vsock stream.
void wait_for_agent(Subprocess& vmm, const fs::path& socket,
                    std::chrono::steady_clock::time_point deadline, const fs::path& dir) {
  std::string last = "the VM socket did not appear";
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto status = vmm.wait_for(0ms))
      fail("VM template: vmrt-vmm {} before the guest agent answered{}", status->to_string(),
           logs_of(dir));
    if (fs::exists(socket)) {
      std::optional<uint32_t> api;
      try {
        AgentClient client = AgentClient::connect(socket, 2s);
        auto h = client.health(v1::HealthRequest{}, {5s});
        if (h.status() == v1::HealthResponse::SERVING) api = h.api_version();
        last = "the agent is not serving yet";
      } catch (const Error& e) {
        last = e.what();
      }
      if (api && *api < kAgentApiFreshStart)
        fail("VM template: the image's agent (api_version {}) cannot reseed a restored VM", *api);
      if (api) return;
    }
    std::this_thread::sleep_for(10ms);
  }
  fail("VM template: the guest agent did not answer in time (last attempt: {}){}", last,
       logs_of(dir));
}

void make(const fs::path& dir, const RuntimeConfig& config, bool with_net) {
  fs::create_directories(dir / "share");
  // Not jailed: the template VM runs only the operator's kernel and image,
  // never a tenant's process, and must write its snapshot here.
  RuntimeConfig boot = config;
  boot.jail = false;
  SandboxPaths paths(dir);
  std::vector<std::string> argv = vmm_argv(boot, paths);
  // vmm_argv puts the VM's files in vm/ and shares shared/; the template
  // keeps its few files flat.
  for (size_t i = 0; i + 1 < argv.size(); ++i) {
    if (argv[i] == "--console") argv[i + 1] = (dir / "console.log").string();
    if (argv[i] == "--vsock-socket") argv[i + 1] = (dir / "vm.sock").string();
    if (argv[i] == "--fs-dir") argv[i + 1] = (dir / "share").string();
    if (argv[i] == "--control-socket") argv[i + 1] = (dir / "control.sock").string();
  }
  argv.insert(argv.end(), {"--snapshot-dir", dir.string()});
  SpawnOptions o;
  if (with_net) {
    // A tap of its own in a network namespace of its own: the device the
    // guest's driver finds, which no packet ever reaches.
    argv.insert(argv.end(), {"--net-tap", "vmrt-template", "--net-mac", kTemplateMac});
    o.namespaces = CLONE_NEWNET;
  }
  UniqueFd log(
      check_sys(::open((dir / "vmm.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600),
                "create the template's vmm.log"));
  o.out = Stdio::to_fd(log.get());
  o.err = Stdio::to_fd(log.get());
  o.new_process_group = true;
  o.parent_death_signal = SIGKILL;
  auto deadline = std::chrono::steady_clock::now() + config.boot_timeout;
  Subprocess vmm = Subprocess::spawn(argv, o);  // killed by its destructor on failure
  wait_for_agent(vmm, dir / "vm.sock", deadline, dir);
  // The vsock device refuses while the agent's side of the health check
  // is still closing: ask again until it is gone.
  std::string last;
  for (;;) {
    try {
      vmm_control(dir / "control.sock", {{"cmd", "snapshot"}}, 60s);
      break;
    } catch (const Error& e) {
      last = e.what();
    }
    if (vmm.wait_for(0ms) || std::chrono::steady_clock::now() >= deadline)
      fail("VM template: snapshot refused: {}{}", last, logs_of(dir));
    std::this_thread::sleep_for(20ms);
  }
  vmm.kill(SIGTERM);
  vmm.wait_for(5s);  // then the destructor's SIGKILL
  std::error_code ignored;
  for (const char* f : {"vm.sock", "control.sock"}) fs::remove(dir / f, ignored);
  fs::remove_all(dir / "share", ignored);
}

}  // namespace

json template_inputs(const RuntimeConfig& config, bool with_net) {
  return {{"format", kTemplateFormat},
          {"vmm", file_identity(config.vmm)},
          {"kernel", file_identity(config.kernel)},
          {"image", file_identity(config.image)},
          {"cmdline", guest_cmdline(config)},
          {"vcpus", config.vcpus},
          {"memory_mib", config.memory_mib},
          {"max_vcpus", capacity_of(config).max_vcpus},
          {"hotplug_mib", capacity_of(config).hotplug_mib},
          {"net", with_net}};
}

VmTemplate VmTemplate::find_or_make(const fs::path& root, const RuntimeConfig& config,
                                    bool with_net) {
  json inputs = template_inputs(config, with_net);
  std::string key = fmt::format("{:016x}", std::hash<std::string>{}(inputs.dump()));
  fs::create_directories(root);
  ::chmod(root.c_str(), 0700);
  fs::path dir = root / key;
  // Held while it is looked at or made: the first sandbox of a
  // configuration makes it, those starting beside it wait and use it.
  TemplateLock lock(TemplateLock::path_for(dir));
  if (usable(dir, inputs)) return VmTemplate(dir, false);
  fs::remove_all(dir);
  fs::path fresh = root / (key + ".new");
  fs::remove_all(fresh);
  auto started = std::chrono::steady_clock::now();
  try {
    make(fresh, config, with_net);
    std::ofstream(fresh / "key.json") << inputs.dump(2) << "\n";
    fs::rename(fresh, dir);
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(fresh, ignored);
    throw;
  }
  spdlog::info("VM template {} made in {} ms", dir.string(),
               std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - started)
                   .count());
  return VmTemplate(dir, true);
}

}  // namespace vmrt::sandbox
