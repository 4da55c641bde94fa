#pragma once
// The messages between the VMM's virtio-fs device and its file server
// process, on two SOCK_SEQPACKET socket pairs (one message per packet):
//
//   commands  VMM -> server Command, server -> VMM Reply (one per Command;
//             also one Reply, unasked, once the server has started)
//   events    server -> VMM Failure (a driver broke the rules on a queue)
//
// Both ends are built from the same source and run the same binary, so the
// layout is plain structs; the server still checks every count and
// descriptor it is given, as it trusts the VMM no more than it must.

#include <cstddef>
#include <cstdint>

namespace vmrt::vmm::fs::wire {

enum class Op : uint32_t {
  // Serve the queues. Descriptors: guest RAM's memfd, the eventfd the server
  // signals when a queue has new used entries, then each queue's notify
  // eventfd in queue order. (In relay mode the memfd is the bounce memory's
  // and the queues are its shadow queues: fs_relay.h.)
  Activate = 1,
  // Stop serving and forget the FUSE session; answered once no server thread
  // touches guest memory.
  Reset = 2,
};

// The high-priority queue and up to 16 request queues, each of at most the
// size the device offers.
inline constexpr uint32_t kMaxQueues = 17;
inline constexpr uint16_t kMaxQueueSize = 256;
inline constexpr size_t kActivateFixedFds = 2;  // guest RAM, used-entries eventfd

struct QueueSetup {
  uint64_t desc_table;
  uint64_t avail_ring;
  uint64_t used_ring;
  uint16_t size;
  uint16_t ready;
  uint32_t reserved;
};

struct Command {
  Op op;
  uint32_t queue_count;
  uint64_t features;  // the features the driver accepted
  QueueSetup queues[kMaxQueues];
};

// Text is NUL-terminated.
struct Reply {
  uint32_t ok;
  char message[500];
};

struct Failure {
  char why[500];
};

}  // namespace vmrt::vmm::fs::wire
