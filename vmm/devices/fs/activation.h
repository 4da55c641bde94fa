#pragma once
// The Activate command the VMM sends the file server (fs_wire.h), and the
// descriptors that go with it, in either mode of the device: direct (the
// server maps guest RAM and serves the guest's own rings) or relay (the
// server maps only the bounce memory and serves the shadow rings in it;
// fs_relay.h).

#include <vector>

#include "vmm/devices/fs/fs_relay.h"
#include "vmm/devices/fs/fs_wire.h"
#include "vmm/virtio/device.h"

namespace vmrt::vmm::fs {

struct Activation {
  wire::Command cmd{};
  std::vector<int> fds;  // borrowed: valid while the caller holds them
};

// Guest RAM's memfd, `used`, then the guest's notify eventfds.
Activation direct_activation(const virtio::ActivateContext& ctx, int used);
// The bounce memory's memfd, `used`, then the relay's kicks; the rings are
// the shadow queues'. Nothing of guest RAM.
Activation relay_activation(const virtio::ActivateContext& ctx, const GuestMemory& bounce, int used,
                            const FsRelay& relay);

}  // namespace vmrt::vmm::fs
