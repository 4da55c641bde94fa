#pragma once
// The sandbox: what CreateSandbox sets up for the whole VM before any
// container (clock, entropy, hostname, DNS, the network, the shared
// filesystem) and
// DestroySandbox undoes.

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "agent/network/configure.h"
#include "agent/network/network_config.h"
#include "agent/service/agent_options.h"
#include "proto/agent.pb.h"

namespace vmrt::agent {

// What a CreateSandbox asks for, checked and translated without touching
// the system, so that a bad request changes nothing and the checks can run
// on their own (unit tests, the request fuzzer). Throws RequestError naming
// the field.
struct SandboxPlan {
  std::string hostname;     // empty: keep the guest's
  std::string resolv_conf;  // empty: no DNS settings
  std::filesystem::path shared_dir;
  std::string mount_tag;  // empty: shared_dir is already there
  network::NetworkConfig network;
  int64_t realtime_ns = 0;     // 0: keep the guest's clock
  std::string entropy;         // bytes to reseed the CRNG with; empty: none
  bool debug_console = false;  // the host allows ExecProcess's guest target
};
SandboxPlan plan_sandbox(const v1::CreateSandboxRequest& request);

class Sandbox {
 public:
  // Validates the whole request before changing anything. Throws
  // RequestError (bad request) or vmrt::Error (a failed mount).
  Sandbox(const v1::CreateSandboxRequest& request, const AgentOptions& options);
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;
  // Unmounts the shared filesystem when this sandbox mounted it; then
  // network_ goes, removing the interfaces' configuration.
  ~Sandbox();

  const std::filesystem::path& shared_dir() const noexcept { return shared_dir_; }
  // Decided once, by the host that created the sandbox (its operator's
  // configuration); nothing later in the VM's life turns it on.
  bool debug_console() const noexcept { return debug_console_; }

 private:
  std::filesystem::path shared_dir_;
  bool debug_console_ = false;
  bool mounted_ = false;
  std::optional<network::NetworkSetup> network_;
};

}  // namespace vmrt::agent
