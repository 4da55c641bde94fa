#pragma once
// The file server's check of an Activate command from the VMM. The VMM is
// less privileged than the file server and may be the one compromised, so
// the command is input like a guest's: every count, size and ring address is
// checked before the server touches guest memory through it.

#include <cstddef>
#include <vector>

#include "vmm/devices/fs/fs_wire.h"
#include "vmm/memory/guest_memory.h"
#include "vmm/virtio/queue.h"

namespace vmrt::vmm::fs {

// The queues `cmd` configures (`bytes` long, with `fds` descriptors), each
// activated against `mem` when ready. Throws vmrt::Error naming what is
// wrong (virtio::QueueError for rings outside RAM or misaligned).
std::vector<virtio::Queue> queues_for(const wire::Command& cmd, size_t bytes, size_t fds,
                                      const GuestMemory& mem);

}  // namespace vmrt::vmm::fs
