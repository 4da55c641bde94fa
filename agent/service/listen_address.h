#pragma once
// Where the agent listens: "vsock:PORT" (any CID: the guest's own) in a VM,
// "unix:PATH" for host tests and debugging.

#include <cstdint>
#include <filesystem>
#include <string>

namespace vmrt::agent {

// The agent's well-known vsock port; the host connects to it through the
// VMM's hybrid vsock socket with "CONNECT 1024\n".
constexpr uint32_t kAgentVsockPort = 1024;

struct ListenAddress {
  enum class Kind { Vsock, Unix };
  Kind kind = Kind::Vsock;
  uint32_t port = kAgentVsockPort;  // Vsock
  std::filesystem::path path;       // Unix: absolute

  std::string to_string() const;
};

// Throws vmrt::Error naming the address and what is wrong with it.
ListenAddress parse_listen_address(const std::string& text);

}  // namespace vmrt::agent
