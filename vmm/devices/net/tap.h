#pragma once
// The host end of the virtio-net device: a tap (one Ethernet frame per read
// and write), opened here by name or handed over already open, e.g. by a
// shim that created it inside the pod's network namespace.
//
// A tap opened with IFF_VNET_HDR carries a virtio_net_hdr_v1 before every
// frame, so checksum and segmentation offloads pass through between the
// guest and the host stack. Any other fd that keeps frame boundaries (a tap
// without IFF_VNET_HDR, an AF_UNIX datagram or seqpacket socket) carries
// bare frames and gets no offloads: that is also what lets tests stand a
// socketpair in for a tap without root.

#include <cstdint>
#include <string>

#include "common/fd.h"

namespace vmrt::vmm::net {

struct TapFd {
  UniqueFd fd;  // non-blocking, close-on-exec
  // Frames are preceded by a virtio_net_hdr_v1 (TUNSETVNETHDRSZ done).
  bool vnet_hdr = false;
  // The TUN_F_* bits TUNSETOFFLOAD accepted when probed: what the guest
  // may be offered for its receive side.
  unsigned offloads = 0;
  // A socket standing in for a tap: written with MSG_NOSIGNAL, so a peer
  // that went away is an error and not a SIGPIPE.
  bool is_socket = false;
  std::string name;  // the interface, or a description of the fd
};

// Creates or attaches to the tap `name` in the current network namespace
// (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR). Throws vmrt::Error.
TapFd open_tap(const std::string& name);
// Takes over an open fd: a tap (IFF_TUN ones are refused: no Ethernet) or a
// datagram/seqpacket socket. Throws vmrt::Error for anything else.
TapFd adopt_tap(UniqueFd fd);
// TUNSETOFFLOAD: which offloaded frames the tap may hand to the guest.
void set_tap_offloads(const TapFd& tap, unsigned tun_flags);

}  // namespace vmrt::vmm::net
