#include "agent/network/configure.h"

#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <optional>

#include "agent/service/request_error.h"

namespace vmrt::agent::network {
namespace {

using Link = NetlinkLink;

}  // namespace

namespace {

Code status_for(int err) {
  switch (err) {
    case EEXIST:
      return Code::AlreadyExists;
    case EINVAL:
    case ERANGE:
    case ENETUNREACH:
    case EADDRNOTAVAIL:
    case EAFNOSUPPORT:
    case EOPNOTSUPP:
    case ENODEV:
      return Code::InvalidArgument;
    case EBUSY:
      return Code::FailedPrecondition;
    case EPERM:
    case EACCES:
      return Code::PermissionDenied;
    default:
      return Code::Internal;
  }
}

// Throws the kernel's refusal of `what` as a status.
void check(const NetlinkResult& r, const std::string& what) {
  if (!r) throw RequestError(status_for(r.error), what + ": " + r.text());
}

// During undo nothing more can be done about a refusal than to say it. An
// address or route already gone went with its link going down (IPv6
// addresses, IPv4 routes do): no news.
void check_undo(const NetlinkResult& r, const std::string& what) {
  if (r || r.error == EADDRNOTAVAIL || r.error == ESRCH) return;
  spdlog::warn("network undo: {}: {}", what, r.text());
}

NetlinkResult change_address(Netlink& nl, uint16_t type, int index, const InterfaceAddress& a) {
  ifaddrmsg ifa{};
  ifa.ifa_family = static_cast<uint8_t>(a.ip.family);
  ifa.ifa_prefixlen = a.prefix_len;
  ifa.ifa_index = static_cast<uint32_t>(index);
  // The host's IPAM made the address unique: duplicate address detection
  // would only keep it tentative (unusable as a source) for a second or more.
  if (a.ip.family == AF_INET6) ifa.ifa_flags = IFA_F_NODAD;
  auto req = NetlinkRequest::make(type, type == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_EXCL : 0, ifa);
  req.put(IFA_LOCAL, a.ip.bytes.data(), a.ip.size());
  req.put(IFA_ADDRESS, a.ip.bytes.data(), a.ip.size());
  return nl.request(req);
}

NetlinkResult change_route(Netlink& nl, uint16_t type, const Route& r, int oif) {
  rtmsg rt{};
  rt.rtm_family = static_cast<uint8_t>(r.family);
  rt.rtm_dst_len = r.prefix_len;
  rt.rtm_table = RT_TABLE_MAIN;
  rt.rtm_protocol = RTPROT_BOOT;
  rt.rtm_scope = r.scope;
  rt.rtm_type = RTN_UNICAST;
  // Replace, not exclusive: the routes read from the pod's veth include the
  // prefix routes the kernel made for its addresses, as it does here.
  auto req =
      NetlinkRequest::make(type, type == RTM_NEWROUTE ? NLM_F_CREATE | NLM_F_REPLACE : 0, rt);
  if (r.prefix_len) req.put(RTA_DST, r.destination.bytes.data(), r.destination.size());
  if (r.gateway.family) req.put(RTA_GATEWAY, r.gateway.bytes.data(), r.gateway.size());
  if (oif) req.put_u32(RTA_OIF, static_cast<uint32_t>(oif));
  if (r.source.family) req.put(RTA_PREFSRC, r.source.bytes.data(), r.source.size());
  if (r.metric) req.put_u32(RTA_PRIORITY, r.metric);
  return nl.request(req);
}

// The NIC's own link-local address (fe80::/64 from its MAC, which is the
// pod veth's and so already unique on the pod's link) would stay tentative
// for a second or more after it comes up, as the addresses would without
// IFA_F_NODAD: no duplicate address detection on it at all. A kernel
// without IPv6 has no such file, and then nothing to detect either.
void skip_ipv6_dad(const Interface& itf) {
  std::string path = "/proc/sys/net/ipv6/conf/" + itf.name + "/accept_dad";
  std::ofstream f(path);
  if (!(f << "0" << std::flush))
    spdlog::warn("interface {}: cannot turn duplicate address detection off ({})", itf.name, path);
}

std::string describe_links(const std::vector<Link>& links) {
  std::vector<std::string> parts;
  for (const Link& l : links)
    parts.push_back(l.mac.size() == 6 ? fmt::format("{} ({:02x})", l.name, fmt::join(l.mac, ":"))
                                      : l.name);
  return fmt::format("{}", fmt::join(parts, ", "));
}

}  // namespace

NetworkSetup::NetworkSetup(const NetworkConfig& config) {
  try {
    apply(config);
  } catch (...) {
    undo();
    throw;
  }
}

NetworkSetup::~NetworkSetup() { undo(); }

void NetworkSetup::undo() noexcept {
  while (!undo_.empty()) {
    try {
      undo_.back()();
    } catch (const std::exception& e) {
      spdlog::warn("network undo: {}", e.what());
    }
    undo_.pop_back();
  }
}

void NetworkSetup::apply(const NetworkConfig& config) {
  std::vector<Link> links = list_links(nl_);
  for (const Interface& itf : config.interfaces) {
    const std::array<uint8_t, 6>& now = itf.current_mac.value_or(itf.mac);
    auto it = std::find_if(links.begin(), links.end(), [&](const Link& l) {
      return l.mac.size() == now.size() && std::equal(l.mac.begin(), l.mac.end(), now.begin());
    });
    if (it == links.end())
      reject(Code::NotFound, "interface {}: no link has MAC {:02x} (links: {})", itf.name,
             fmt::join(now, ":"), describe_links(links));
    configure_interface(itf, *it);
  }

  // Containers sharing this namespace talk to each other over localhost.
  auto lo = std::find_if(links.begin(), links.end(), [](const Link& l) { return l.name == "lo"; });
  if (lo == links.end()) reject(Code::Internal, "no loopback device");
  index_["lo"] = lo->index;
  if (!(lo->flags & IFF_UP)) check(set_link(nl_, lo->index, true, "", 0), "bring lo up");

  for (const Route& r : config.routes) {
    int oif = r.device.empty() ? 0 : index_.at(r.device);
    check(change_route(nl_, RTM_NEWROUTE, r, oif), "route " + r.str());
    undo_.push_back([this, r, oif] {
      check_undo(change_route(nl_, RTM_DELROUTE, r, oif), "delete route " + r.str());
    });
  }
}

void NetworkSetup::configure_interface(const Interface& itf, const Link& link) {
  std::string what = fmt::format("interface {} ({})", itf.name, itf.mac_str());
  int index = link.index;
  index_[itf.name] = index;
  bool was_up = link.flags & IFF_UP;
  bool new_mac = !std::equal(itf.mac.begin(), itf.mac.end(), link.mac.begin(), link.mac.end());
  if (was_up && (link.name != itf.name || new_mac)) {
    // Renaming, and a virtio NIC's new address, need the link down (EBUSY).
    check(set_link(nl_, index, false, "", 0), what + ": bring down to rename or readdress");
    undo_.push_back([this, index, what] {
      check_undo(set_link(nl_, index, true, "", 0), what + ": bring up again");
    });
  }
  if (new_mac) {
    check(set_link_address(nl_, index, {itf.mac.begin(), itf.mac.end()}),
          fmt::format("{}: set MAC (was {})", what, link.mac_text()));
    undo_.push_back([this, index, what, old = link.mac] {
      check_undo(set_link_address(nl_, index, old), what + ": restore MAC");
    });
  }
  if (link.name != itf.name) {
    check(set_link(nl_, index, std::nullopt, itf.name, 0),
          fmt::format("{}: rename {} to {}", what, link.name, itf.name));
    undo_.push_back([this, index, what, old = link.name] {
      check_undo(set_link(nl_, index, std::nullopt, old, 0), what + ": rename back to " + old);
    });
  }
  if (itf.mtu && itf.mtu != link.mtu) {
    check(set_link(nl_, index, std::nullopt, "", itf.mtu),
          fmt::format("{}: set MTU {}", what, itf.mtu));
    undo_.push_back([this, index, what, old = link.mtu] {
      check_undo(set_link(nl_, index, std::nullopt, "", old), what + ": restore MTU");
    });
  }
  for (const InterfaceAddress& a : itf.addresses) {
    std::string addr = fmt::format("{}: add address {}/{}", what, a.ip.str(), a.prefix_len);
    check(change_address(nl_, RTM_NEWADDR, index, a), addr);
    undo_.push_back([this, index, a, addr] {
      check_undo(change_address(nl_, RTM_DELADDR, index, a), "remove address " + a.ip.str());
    });
  }
  if (std::any_of(itf.addresses.begin(), itf.addresses.end(),
                  [](const InterfaceAddress& a) { return a.ip.family == AF_INET6; }))
    skip_ipv6_dad(itf);
  check(set_link(nl_, index, true, "", 0), what + ": bring up");
  undo_.push_back([this, index, what] {
    check_undo(set_link(nl_, index, false, "", 0), what + ": bring down");
  });
  spdlog::info("{}: {} address(es), mtu {}, up", what, itf.addresses.size(),
               itf.mtu ? itf.mtu : link.mtu);
}

}  // namespace vmrt::agent::network
