#include "vmm/devices/net/tap.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cstring>

#include "common/error.h"
#include "common/fd_io.h"
#include "vmm/devices/net/net_wire.h"

namespace vmrt::vmm::net {

namespace {

// The offload sets worth offering, best first: the kernel refuses bits it
// does not know, so a set is kept only if TUNSETOFFLOAD takes it whole.
constexpr unsigned kOffloadSets[] = {
    TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_UFO,
    TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6,
    TUN_F_CSUM,
};

unsigned probe_offloads(int fd) {
  unsigned found = 0;
  for (unsigned set : kOffloadSets) {
    if (ioctl(fd, TUNSETOFFLOAD, static_cast<unsigned long>(set)) == 0) {
      found = set;
      break;
    }
  }
  // Nothing is offloaded to the guest until its driver says it copes.
  ioctl(fd, TUNSETOFFLOAD, 0ul);
  return found;
}

void make_private(int fd, const std::string& what) {
  int fdflags = check_sys(fcntl(fd, F_GETFD), "F_GETFD on " + what);
  check_sys(fcntl(fd, F_SETFD, fdflags | FD_CLOEXEC), "F_SETFD on " + what);
  set_nonblocking(fd);
}

// A tap with a virtio-net header: its size must match what the guest uses.
void setup_vnet_tap(TapFd& tap) {
  int size = sizeof(virtio_net_hdr_v1);
  check_sys(ioctl(tap.fd.get(), TUNSETVNETHDRSZ, &size), "TUNSETVNETHDRSZ on tap " + tap.name);
  tap.vnet_hdr = true;
  tap.offloads = probe_offloads(tap.fd.get());
}

}  // namespace

TapFd open_tap(const std::string& name) {
  if (name.empty() || name.size() >= IFNAMSIZ)
    fail("tap name \"{}\" must be 1 to {} bytes", name, IFNAMSIZ - 1);
  TapFd tap;
  tap.name = name;
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) throw_errno("cannot open /dev/net/tun for tap " + name);
  tap.fd = UniqueFd(fd);
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, name.data(), name.size());
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
  check_sys(ioctl(fd, TUNSETIFF, &ifr), "TUNSETIFF for tap " + name);
  setup_vnet_tap(tap);
  return tap;
}

TapFd adopt_tap(UniqueFd fd) {
  TapFd tap;
  tap.name = fmt::format("fd {}", fd.get());
  make_private(fd.get(), tap.name);
  tap.fd = std::move(fd);
  ifreq ifr{};
  if (ioctl(tap.fd.get(), TUNGETIFF, &ifr) == 0) {
    tap.name = std::string(ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ));
    if (!(ifr.ifr_flags & IFF_TAP))
      fail("{} is a tun device, not a tap: no Ethernet frames", tap.name);
    if (ifr.ifr_flags & IFF_VNET_HDR) setup_vnet_tap(tap);
    return tap;
  }
  int type = 0;
  socklen_t len = sizeof type;
  if (getsockopt(tap.fd.get(), SOL_SOCKET, SO_TYPE, &type, &len) == 0 &&
      (type == SOCK_DGRAM || type == SOCK_SEQPACKET)) {
    tap.is_socket = true;
    return tap;
  }
  fail("{} is neither a tap nor a datagram socket: frame boundaries would be lost", tap.name);
}

void set_tap_offloads(const TapFd& tap, unsigned tun_flags) {
  if (!tap.vnet_hdr) return;
  check_sys(ioctl(tap.fd.get(), TUNSETOFFLOAD, static_cast<unsigned long>(tun_flags)),
            fmt::format("TUNSETOFFLOAD {:#x} on tap {}", tun_flags, tap.name));
}

}  // namespace vmrt::vmm::net
