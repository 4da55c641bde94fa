#pragma once
// Relay mode of the virtio-fs device: for a VM whose RAM the file server
// cannot map (a VM restored from a template maps it privately, copy on
// write, so no other process sees its pages). The server then gets a
// bounce memory instead of guest RAM and serves one shadow queue there per
// guest queue (shadow_queue.h); the relay, on the device's worker thread,
// copies each request the guest posts into bounce memory and publishes it
// on the shadow queue, and copies each reply back into the guest's
// writable buffers before it gives the guest's chain back.
//
// The guest's chains are checked as in direct mode (virtio::Queue); a
// malformed one puts the device into NEEDS_RESET and the relay stops. When
// bounce memory or shadow slots run out, the relay leaves the guest's
// requests on its ring until replies free space: nothing is dropped and
// nothing blocks the thread.

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/fd.h"
#include "vmm/devices/fs/bounce_allocator.h"
#include "vmm/devices/fs/shadow_queue.h"
#include "vmm/fuse/server.h"
#include "vmm/memory/guest_memory.h"
#include "vmm/virtio/device.h"

namespace vmrt::vmm::fs {

// What the relay did, for tests and logs (written by the worker thread).
struct RelayStats {
  std::atomic<uint64_t> relayed{0};  // requests handed to the file server
  // Times a queue's next request had to wait for bounce space or a slot.
  std::atomic<uint64_t> waits{0};
};

// The most bytes of a request, and of a reply, the relay carries: the
// largest READ or WRITE payload the server negotiates, or an extended
// attribute, plus the FUSE headers. Longer chains are carried truncated:
// the server refuses such a request, and writes no reply longer anyway.
uint32_t relay_request_cap(const fuse::ServerConfig& config);
// The size of the bounce memory for requests of up to `request_cap` bytes:
// the shadow rings and room for a few of the largest requests at once.
uint64_t relay_memory_bytes(uint32_t request_cap);

class FsRelay {
 public:
  // Zeroes the shadow rings of `queues` queues in `bounce`: construct before
  // the server is activated on them. `kicks` are the eventfds the server
  // waits on, one per queue. `bounce` and `stats` outlive the relay.
  FsRelay(const GuestMemory& bounce, uint32_t request_cap, size_t queues,
          std::vector<UniqueFd> kicks, RelayStats& stats);

  // The server's activation command carries these.
  int kick(size_t queue) const noexcept { return kicks_[queue].get(); }

  // Starts relaying the queues of `ctx` (which outlives the relay): moves
  // what the guest posted already. Then on its worker thread only:
  void start(virtio::ActivateContext& ctx);
  // The guest notified queue `queue`.
  void on_guest_notify(size_t queue);
  // The server signalled used entries on some shadow queue.
  void on_server_used();

 private:
  struct InFlight {
    uint16_t head = 0;                      // the guest's chain
    std::vector<virtio::Segment> writable;  // where its reply goes
    uint64_t addr = 0, bytes = 0;           // its bounce range
    uint64_t out = 0;                       // the reply's place in it
  };
  struct QueueState {
    ShadowQueue shadow;
    std::optional<virtio::DescriptorChain> pending;  // popped, waiting for room
    std::vector<InFlight> slots;                     // by shadow slot
    bool stalled = false;
  };

  // Moves the guest's requests on `queue` to its shadow queue while there is
  // room; kicks the server when it moved any.
  void pump(size_t queue);
  // Copies the server's replies back to the guest; true when the guest
  // wants an interrupt for them.
  bool complete(size_t queue);
  // The guest (or the server) broke the rules: NEEDS_RESET, relay no more.
  void give_up(const std::string& why);

  const GuestMemory& bounce_;
  const uint32_t cap_;
  std::vector<UniqueFd> kicks_;
  RelayStats& stats_;
  BounceAllocator space_;
  std::vector<std::unique_ptr<QueueState>> queues_;
  virtio::ActivateContext* ctx_ = nullptr;
  bool broken_ = false;
};

}  // namespace vmrt::vmm::fs
