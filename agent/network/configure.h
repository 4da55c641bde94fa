#pragma once
// Applies a checked NetworkConfig to the network namespace of the calling
// thread with rtnetlink: for each interface, the link with its MAC is
// renamed, gets its MTU and addresses and comes up; lo comes up; then the
// routes are added. A failure names what failed and the kernel's errno text
// and undoes what was done, so that a corrected request can be applied
// again; the destructor undoes it all as well.

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "agent/network/network_config.h"
#include "common/netlink.h"
#include "common/netlink_links.h"

namespace vmrt::agent::network {

class NetworkSetup {
 public:
  // Throws RequestError: NOT_FOUND when no link has an interface's MAC, and
  // for a refusal of the kernel a code by its errno (EEXIST: ALREADY_EXISTS,
  // EINVAL, ERANGE, ENETUNREACH ...: INVALID_ARGUMENT, else INTERNAL).
  explicit NetworkSetup(const NetworkConfig& config);
  ~NetworkSetup();
  NetworkSetup(const NetworkSetup&) = delete;
  NetworkSetup& operator=(const NetworkSetup&) = delete;

 private:
  void apply(const NetworkConfig& config);
  void configure_interface(const Interface& itf, const NetlinkLink& link);
  void undo() noexcept;

  Netlink nl_;
  std::vector<std::function<void()>> undo_;  // run last to first
  std::map<std::string, int> index_;         // guest name -> ifindex
};

}  // namespace vmrt::agent::network
