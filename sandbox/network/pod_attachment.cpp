#include "sandbox/network/pod_attachment.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_arp.h>
#include <linux/if_tun.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

#include "common/error.h"
#include "common/fd.h"
#include "sandbox/network/guest_network.h"
#include "sandbox/network/netns_thread.h"
#include "sandbox/network/rtnl_links.h"
#include "sandbox/network/tc_redirect.h"

namespace vmrt::sandbox::network {
namespace {

// The index of link `name` in the calling thread's network namespace (the
// socket's, which the thread's is).
int link_index(const char* name) {
  UniqueFd s(check_sys(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), "socket"));
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  if (::ioctl(s.get(), SIOCGIFINDEX, &ifr) != 0)
    throw_errno(fmt::format("pod network: no link {}", name));
  return ifr.ifr_ifindex;
}

// A tap with a virtio-net header (the VMM sets its size), in the calling
// thread's network namespace; non-persistent, so it goes with its last fd.
UniqueFd create_tap(const std::string& name) {
  UniqueFd fd(::open("/dev/net/tun", O_RDWR | O_CLOEXEC));
  if (!fd) throw_errno("cannot open /dev/net/tun for the pod's tap");
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, name.c_str(), std::min(name.size(), size_t(IFNAMSIZ - 1)));
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
  check_sys(::ioctl(fd.get(), TUNSETIFF, &ifr), "TUNSETIFF " + name);
  return fd;
}

}  // namespace

std::unique_ptr<PodAttachment> PodAttachment::attach(const std::filesystem::path& netns) {
  std::unique_ptr<PodAttachment> a(new PodAttachment());
  a->netns_ = netns;
  bool none = false;
  in_network_namespace(netns, [&] {
    Netlink nl;
    auto links = list_links(nl);
    auto routes = list_routes(nl);
    const NetlinkLink* veth = choose_pod_interface(links, routes);
    if (!veth) {
      none = true;
      return;
    }
    if (veth->mac.size() != 6) fail("pod network: interface {} has no MAC address", veth->name);
    a->veth_ = veth->name;
    a->mac_ = veth->mac_text();
    a->network_ = network::guest_network(*veth, list_addresses(nl), routes);

    a->tap_ = create_tap(kTapName);
    int tap = link_index(kTapName);
    set_link_up(nl, tap, veth->mtu, kTapName);
    TcLink from_veth{veth->index, veth->name}, from_tap{tap, kTapName};
    redirect_ingress(nl, from_veth, from_tap);
    try {
      redirect_ingress(nl, from_tap, from_veth);
    } catch (...) {
      std::string ignored;
      remove_ingress(nl, from_veth, &ignored);
      throw;
    }
    // Only now is the veth's redirect ours to remove: a failed attachment
    // (a second one, say) must not undo the working one's.
    a->veth_index_ = veth->index;
  });
  if (none) {
    spdlog::info("pod network namespace {} has no interface: the VM gets no network",
                 netns.string());
    return nullptr;
  }
  spdlog::info("pod network: {} ({}) in {} redirected to the VM's tap, {} address(es), {} route(s)",
               a->veth_, a->mac_, netns.string(), a->network_.interfaces[0].addresses.size(),
               a->network_.routes.size());
  return a;
}

PodAttachment::~PodAttachment() {
  // The tap and its own redirect go with the VMM's descriptor; the veth's
  // stays until it is removed here (or CNI deletes the veth).
  tap_.reset();
  if (veth_index_ == 0) return;
  try {
    in_network_namespace(netns_, [&] {
      Netlink nl;
      std::string error;
      if (!remove_ingress(nl, {veth_index_, veth_}, &error)) spdlog::warn("{}", error);
    });
  } catch (const std::exception& e) {
    // The namespace is gone already (CNI DEL ran first): so is the veth.
    spdlog::debug("pod network: {}", e.what());
  }
}

}  // namespace vmrt::sandbox::network
