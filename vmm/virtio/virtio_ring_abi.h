#pragma once
// linux/virtio_ring.h for C++: its legacy vring_init() converts void*
// implicitly, which C++ rejects. That helper (and the legacy layout it
// computes) is not used here, so the header's own switch leaves it out.

#ifndef VIRTIO_RING_NO_LEGACY
#define VIRTIO_RING_NO_LEGACY
#endif
#include <linux/virtio_ring.h>
