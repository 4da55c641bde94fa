#pragma once
// The sandbox: what CreateSandbox sets up for the whole VM before any
// container (hostname, DNS, the shared filesystem) and DestroySandbox undoes.

#include <filesystem>
#include <memory>

#include "agent/service/agent_options.h"
#include "proto/agent.pb.h"

namespace vmrt::agent {

class Sandbox {
 public:
  // Validates the whole request before changing anything. Throws
  // RequestError (bad request) or vmrt::Error (a failed mount).
  Sandbox(const v1::CreateSandboxRequest& request, const AgentOptions& options);
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;
  // Unmounts the shared filesystem when this sandbox mounted it.
  ~Sandbox();

  const std::filesystem::path& shared_dir() const noexcept { return shared_dir_; }

 private:
  std::filesystem::path shared_dir_;
  bool mounted_ = false;
};

}  // namespace vmrt::agent
