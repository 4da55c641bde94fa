#include "common/netlink_links.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include <cstring>

namespace vmrt {
namespace {

std::string as_string(std::span<const uint8_t> a) {
  return {reinterpret_cast<const char*>(a.data()),
          strnlen(reinterpret_cast<const char*>(a.data()), a.size())};
}

// The nested IFLA_LINKINFO's IFLA_INFO_KIND.
std::string link_kind(std::span<const uint8_t> linkinfo) {
  int left = static_cast<int>(linkinfo.size());
  for (auto* a = reinterpret_cast<const rtattr*>(linkinfo.data()); RTA_OK(a, left);
       a = RTA_NEXT(a, left))
    if ((a->rta_type & NLA_TYPE_MASK) == IFLA_INFO_KIND)
      return as_string({static_cast<const uint8_t*>(RTA_DATA(a)), RTA_PAYLOAD(a)});
  return {};
}

}  // namespace

std::string NetlinkLink::mac_text() const {
  return mac.empty() ? "" : fmt::format("{:02x}", fmt::join(mac, ":"));
}

std::vector<NetlinkLink> list_links(Netlink& nl) {
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  auto req = NetlinkRequest::make(RTM_GETLINK, 0, ifi);
  std::vector<NetlinkLink> links;
  nl.dump(req, [&](const nlmsghdr& m) {
    if (m.nlmsg_type != RTM_NEWLINK || m.nlmsg_len < NLMSG_LENGTH(sizeof(ifinfomsg))) return;
    const auto* info = static_cast<const ifinfomsg*>(NLMSG_DATA(&m));
    auto attrs = parse_attributes(m, sizeof(ifinfomsg), IFLA_MAX);
    NetlinkLink l;
    l.index = info->ifi_index;
    l.flags = info->ifi_flags;
    l.type = info->ifi_type;
    l.name = as_string(attrs[IFLA_IFNAME]);
    l.kind = link_kind(attrs[IFLA_LINKINFO]);
    l.mac.assign(attrs[IFLA_ADDRESS].begin(), attrs[IFLA_ADDRESS].end());
    if (attrs[IFLA_MTU].size() == sizeof(uint32_t))
      std::memcpy(&l.mtu, attrs[IFLA_MTU].data(), sizeof l.mtu);
    links.push_back(std::move(l));
  });
  return links;
}

NetlinkResult set_link(Netlink& nl, int index, std::optional<bool> up, const std::string& name,
                       uint32_t mtu) {
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = index;
  if (up) {
    ifi.ifi_change = IFF_UP;
    ifi.ifi_flags = *up ? IFF_UP : 0;
  }
  auto req = NetlinkRequest::make(RTM_NEWLINK, 0, ifi);
  if (!name.empty()) req.put_string(IFLA_IFNAME, name);
  if (mtu) req.put_u32(IFLA_MTU, mtu);
  return nl.request(req);
}

NetlinkResult set_link_address(Netlink& nl, int index, const std::vector<uint8_t>& mac) {
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = index;
  auto req = NetlinkRequest::make(RTM_NEWLINK, 0, ifi);
  req.put(IFLA_ADDRESS, mac.data(), mac.size());
  return nl.request(req);
}

}  // namespace vmrt
