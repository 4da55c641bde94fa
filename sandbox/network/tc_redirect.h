#pragma once
// Joins two links of one network namespace into a wire with tc: everything
// arriving on either link (its ingress) is sent out of the other, before the
// namespace's own IP stack sees it. Between the pod's veth and the VM's tap,
// that makes the guest's NIC the pod's interface, as Kata's "tcfilter"
// model does: no bridge, no address change in the pod namespace.

#include <string>

#include "common/netlink.h"

namespace vmrt::sandbox::network {

struct TcLink {
  int index = 0;
  std::string name;
};

// Adds an ingress qdisc to `from` and a filter redirecting every
// frame to egress of `to`. Throws vmrt::Error naming the link and the
// kernel's refusal (e.g. a kernel without sch_ingress, cls_u32 or
// act_mirred).
void redirect_ingress(Netlink& nl, const TcLink& from, const TcLink& to);

// Removes the ingress qdisc of `link` (and the filters under it). Returns
// false with a message when the kernel refused for another reason than
// there being none.
bool remove_ingress(Netlink& nl, const TcLink& link, std::string* error);

}  // namespace vmrt::sandbox::network
