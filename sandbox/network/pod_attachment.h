#pragma once
// The pod's network handed to its VM. CNI has configured an interface (a
// veth) in the pod's network namespace; the attachment creates a tap next
// to it, joins the two with tc redirects in both directions, and describes
// the veth's MAC, MTU, addresses and routes for the guest, whose virtio-net
// NIC on that tap takes them over. The pod's traffic then reaches the guest
// as it would have reached the veth, and nothing else on the host changes.
//
// The tap is not persistent: it exists while a descriptor of it is open,
// which after launch is the VMM's alone, so it disappears with the VMM
// however that ends. Destroying the attachment removes the veth's redirect.

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "common/fd.h"
#include "sandbox/agent_client.h"

namespace vmrt::sandbox::network {

class PodAttachment {
 public:
  // The tap's name inside the pod namespace.
  static constexpr const char* kTapName = "vmrt-tap0";

  // Wires the namespace at `netns`. Returns null when it has no
  // interface but loopback (the guest then has no network either). Throws
  // vmrt::Error naming what failed; nothing is left behind then.
  static std::unique_ptr<PodAttachment> attach(const std::filesystem::path& netns);
  ~PodAttachment();
  PodAttachment(const PodAttachment&) = delete;
  PodAttachment& operator=(const PodAttachment&) = delete;

  // The tap, for the VMM (--net-tap-fd); drop it once the VMM has its copy.
  int tap_fd() const noexcept { return tap_.get(); }
  void release_tap() noexcept { tap_.reset(); }
  // The guest NIC's MAC (the veth's) and what the agent configures.
  const std::string& guest_mac() const noexcept { return mac_; }
  const PodNetwork& guest_network() const noexcept { return network_; }

 private:
  PodAttachment() = default;

  std::filesystem::path netns_;
  std::string veth_;
  int veth_index_ = 0;
  UniqueFd tap_;
  std::string mac_;
  PodNetwork network_;
};

}  // namespace vmrt::sandbox::network
