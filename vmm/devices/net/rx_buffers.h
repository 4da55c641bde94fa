#pragma once
// Where received frames go in guest memory. The device reads each frame
// straight from the tap into guest receive buffers (readv, no copy) and only
// then learns its length, so it holds on to enough popped chains for a
// largest frame before each read:
//
// - without VIRTIO_NET_F_MRG_RXBUF, one chain per frame; a frame larger
//   than that chain is dropped (the driver must post buffers big enough);
// - with it, as many chains as add up to a largest frame; a frame uses as
//   many of them as it needs, num_buffers in its header says how many, and
//   the chains it did not reach stay held for the next frame.
//
// A spill area after the guest buffers catches the rest of a frame when the
// ring ran short; that frame then waits until the driver posts more buffers
// (resume()), so a frame is never lost because buffers are merely late.
//
// Chains that cannot take a frame (device-readable parts, shorter than a
// header) go back unused and are counted. Every loop is bounded by the ring
// size, so a hostile driver cannot keep the device thread from stopping.

#include <sys/uio.h>

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "vmm/devices/net/counters.h"
#include "vmm/devices/net/frame_limits.h"
#include "vmm/virtio/queue.h"

namespace vmrt::vmm::net {

class RxBuffers {
 public:
  struct Options {
    bool mergeable = false;
    // The tap writes the virtio-net header itself (IFF_VNET_HDR); otherwise
    // the device writes a plain one (no offloads) before the bare frame.
    bool header_from_tap = false;
    // VIRTIO_NET_F_GUEST_CSUM was accepted: the tap's checksum flags may
    // reach the guest; without it they are cleared.
    bool guest_csum = false;
  };

  RxBuffers(virtio::Queue& queue, Options options, NetCounters& counters);

  // Pops chains until the next frame surely fits or the ring is empty; false
  // when none are held (the driver has then been asked to notify). Throws
  // virtio::QueueError for a broken ring.
  bool refill();
  // Where the next frame is read to: the held chains, then the spill area.
  std::vector<iovec> read_iovecs();
  // `n` bytes were read through read_iovecs().
  void commit(size_t n);

  // A frame is waiting for more guest buffers.
  bool pending() const noexcept { return !frame_.empty(); }
  // Places more of the pending frame; true once it is done with (delivered
  // or dropped), false while it still waits.
  bool resume();

  // For a snapshot: gives every chain it holds back to the ring (undoing
  // their pops), dropping a frame that waits for more buffers. Throws
  // vmrt::Error, holding them still, when a chain popped after them was used
  // already (a buffer too small to take a frame), so that they are not the
  // last ones popped.
  void give_back();

  // Whether used entries were added since the last call.
  bool take_used() noexcept { return std::exchange(used_, false); }

 private:
  struct Placed {
    virtio::DescriptorChain chain;
    uint32_t len;
  };
  std::optional<virtio::DescriptorChain> pop_usable(size_t& budget);
  void hold(virtio::DescriptorChain chain);
  virtio::DescriptorChain take_held();
  void deliver();
  void drop_frame();

  virtio::Queue& queue_;
  const Options options_;
  NetCounters& counters_;

  std::deque<virtio::DescriptorChain> held_;
  size_t held_bytes_ = 0;
  size_t held_segments_ = 0;

  // The frame being placed: its chains so far and what is left in spill_.
  std::vector<Placed> frame_;
  std::vector<uint8_t> spill_;
  size_t spill_len_ = 0;
  size_t spill_pos_ = 0;
  bool used_ = false;
  // A chain popped after one still held went back used: the held chains
  // are not the last popped, and give_back() cannot undo their pops.
  bool out_of_order_ = false;
};

}  // namespace vmrt::vmm::net
