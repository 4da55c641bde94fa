#include "sandbox/network/tc_redirect.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_mirred.h>

#include <cstring>

#include "common/error.h"

namespace vmrt::sandbox::network {
namespace {

constexpr uint32_t kIngressHandle = TC_H_MAKE(TC_H_INGRESS, 0);  // "ffff:"
// The filter's priority; the protocol (all) shares tcm_info with it.
constexpr uint32_t kFilterPriority = 1;

tcmsg ingress_qdisc(int index) {
  tcmsg t{};
  t.tcm_family = AF_UNSPEC;
  t.tcm_ifindex = index;
  t.tcm_handle = kIngressHandle;
  t.tcm_parent = TC_H_INGRESS;
  return t;
}

}  // namespace

void redirect_ingress(Netlink& nl, const TcLink& from, const TcLink& to) {
  auto qdisc =
      NetlinkRequest::make(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL, ingress_qdisc(from.index));
  qdisc.put_string(TCA_KIND, "ingress");
  if (auto r = nl.request(qdisc); !r)
    fail("tc: cannot add an ingress qdisc to {}: {}", from.name, r.text());

  tcmsg t{};
  t.tcm_family = AF_UNSPEC;
  t.tcm_ifindex = from.index;
  t.tcm_parent = kIngressHandle;
  t.tcm_info = TC_H_MAKE(kFilterPriority << 16, htons(ETH_P_ALL));
  auto filter = NetlinkRequest::make(RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL, t);
  // u32 with one key that matches every packet: present in every kernel
  // that has tc at all (matchall is often left out).
  filter.put_string(TCA_KIND, "u32");
  size_t options = filter.begin_nested(TCA_OPTIONS);
  // The selector and its one key (mask 0 at offset 0: always equal).
  alignas(tc_u32_sel) uint8_t match[sizeof(tc_u32_sel) + sizeof(tc_u32_key)]{};
  tc_u32_sel sel{};
  sel.flags = TC_U32_TERMINAL;
  sel.nkeys = 1;
  std::memcpy(match, &sel, sizeof sel);
  filter.put(TCA_U32_SEL, match, sizeof match);
  size_t actions = filter.begin_nested(TCA_U32_ACT);
  size_t first = filter.begin_nested(1);  // actions are numbered from 1, in order
  filter.put_string(TCA_ACT_KIND, "mirred");
  size_t act_options = filter.begin_nested(TCA_ACT_OPTIONS);
  tc_mirred mirred{};
  // Stolen: the frame is gone from `from`'s stack once sent out of `to`.
  mirred.action = TC_ACT_STOLEN;
  mirred.eaction = TCA_EGRESS_REDIR;
  mirred.ifindex = static_cast<uint32_t>(to.index);
  filter.put(TCA_MIRRED_PARMS, &mirred, sizeof mirred);
  filter.end_nested(act_options);
  filter.end_nested(first);
  filter.end_nested(actions);
  filter.end_nested(options);
  if (auto r = nl.request(filter); !r) {
    std::string ignored;
    remove_ingress(nl, from, &ignored);
    fail("tc: cannot redirect {} to {}: {}", from.name, to.name, r.text());
  }
}

bool remove_ingress(Netlink& nl, const TcLink& link, std::string* error) {
  auto qdisc = NetlinkRequest::make(RTM_DELQDISC, 0, ingress_qdisc(link.index));
  auto r = nl.request(qdisc);
  // Gone with its link, or never added.
  if (r || r.error == ENOENT || r.error == ENODEV || r.error == EINVAL) return true;
  *error = fmt::format("tc: cannot remove the ingress qdisc of {}: {}", link.name, r.text());
  return false;
}

}  // namespace vmrt::sandbox::network
