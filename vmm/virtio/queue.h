#pragma once
// One split virtqueue as the device sees it (virtio 1.x, section 2.7). The
// driver is the guest and the guest is hostile: every descriptor address,
// length, index and chain is checked before use, and a malformed ring is
// reported as QueueError so the device can ask for a reset. Nothing read from
// the rings is trusted twice: each field is copied out of guest memory once.
//
// A Queue is configured by the transport (size, ring addresses, features)
// and, once the driver sets DRIVER_OK, owned by one device thread.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/error.h"
#include "vmm/memory/guest_memory.h"

namespace vmrt::vmm::virtio {

// A ring that breaks the rules (bad address, loop, oversized chain ...).
class QueueError : public Error {
 public:
  using Error::Error;
};

// One buffer of a descriptor chain, already translated to host memory.
struct Segment {
  uint8_t* data;
  uint32_t len;
};

// A request: device-readable segments followed by device-writable ones, as
// the spec requires (a readable descriptor after a writable one is refused).
// A chain given back to the driver with `len` bytes written into it.
struct UsedElem {
  uint16_t head;
  uint32_t len;
};

struct DescriptorChain {
  uint16_t head = 0;
  std::vector<Segment> readable;
  std::vector<Segment> writable;
  uint32_t readable_len = 0;
  uint32_t writable_len = 0;
};

// Where a queue stands, for a snapshot: the next available entry the device
// will take, the next used entry it will fill, and the interrupt-suppression
// state (the used index the driver was last told about).
struct QueuePositions {
  uint16_t next_avail = 0;
  uint16_t next_used = 0;
  uint16_t signalled_used = 0;
  bool signalled_valid = false;
};

class Queue {
 public:
  explicit Queue(uint16_t max_size) : max_size_(max_size), size_(max_size) {}

  // Driver-visible configuration, set through the transport.
  uint16_t max_size() const noexcept { return max_size_; }
  uint16_t size() const noexcept { return size_; }
  void set_size(uint16_t size) noexcept { size_ = size; }
  bool ready() const noexcept { return ready_; }
  void set_ready(bool ready) noexcept { ready_ = ready; }
  uint64_t desc_table() const noexcept { return desc_table_; }
  uint64_t avail_ring() const noexcept { return avail_ring_; }
  uint64_t used_ring() const noexcept { return used_ring_; }
  void set_desc_table(uint64_t gpa) noexcept { desc_table_ = gpa; }
  void set_avail_ring(uint64_t gpa) noexcept { avail_ring_ = gpa; }
  void set_used_ring(uint64_t gpa) noexcept { used_ring_ = gpa; }
  // Negotiated VIRTIO_RING_F_EVENT_IDX / VIRTIO_RING_F_INDIRECT_DESC.
  void set_features(bool event_idx, bool indirect) noexcept {
    event_idx_ = event_idx;
    indirect_ = indirect;
  }

  // Back to the state after device reset.
  void reset() noexcept;

  // Checks the configuration when the driver enables the queue: a size that
  // is a power of two no larger than max_size, and three aligned rings that
  // lie in guest RAM. Binds the queue to `mem` and starts it at `at`: the
  // ring's start for a driver that just enabled it, a snapshot's positions
  // for a restored one (then at most a ring's worth of chains may be in
  // flight). Throws QueueError.
  void activate(const GuestMemory& mem, const QueuePositions& at = {});

  // The next available chain, or nullopt when the driver has posted none.
  // Throws QueueError for a malformed ring or chain; the queue is then
  // unusable until reset.
  std::optional<DescriptorChain> pop();
  // Gives back the chain returned by the last pop(), e.g. when a device finds
  // it has nothing to put in it after all.
  void undo_pop() noexcept { --next_avail_; }
  // Whether pop() would return a chain (without consuming it).
  bool has_available();

  // Returns a chain to the driver with `len` bytes written into it.
  void add_used(uint16_t head, uint32_t len) {
    const UsedElem e{head, len};
    add_used(std::span<const UsedElem>(&e, 1));
  }
  // Returns several chains that the driver must see together (a network
  // frame in mergeable receive buffers): the used index moves once, past
  // all of them.
  void add_used(std::span<const UsedElem> elems);

  // Whether the driver wants an interrupt for the used entries added since
  // the last call (VIRTIO_RING_F_EVENT_IDX's used_event, or the avail ring's
  // NO_INTERRUPT flag).
  bool needs_interrupt();

  // With EVENT_IDX: asks the driver to notify when it adds past what has been
  // consumed. Returns true if more buffers arrived meanwhile (the caller must
  // then pop again rather than wait for a notification).
  bool enable_notification();

  // pop(), and when the ring is empty, notifications re-armed and the ring
  // looked at once more: nullopt means the driver will notify for the next
  // chain, so a worker may sleep. What every device's drain loop needs.
  std::optional<DescriptorChain> pop_or_rearm() {
    for (;;) {
      if (auto chain = pop()) return chain;
      if (!enable_notification()) return std::nullopt;
    }
  }

  uint16_t next_avail() const noexcept { return next_avail_; }
  uint16_t next_used() const noexcept { return next_used_; }
  QueuePositions positions() const noexcept {
    return {next_avail_, next_used_, signalled_used_, signalled_valid_};
  }
  // The ring's indices in guest memory: the driver's avail idx and the used
  // idx last published, for a queue served elsewhere (the virtio-fs file
  // server). Only after activate().
  uint16_t ring_avail_idx() const { return avail_idx(); }
  uint16_t ring_used_idx() const;
  bool event_idx() const noexcept { return event_idx_; }
  bool indirect() const noexcept { return indirect_; }

 private:
  uint16_t avail_idx() const;
  void walk(uint16_t head, DescriptorChain& chain) const;

  const uint16_t max_size_;
  uint16_t size_;
  bool ready_ = false;
  uint64_t desc_table_ = 0;
  uint64_t avail_ring_ = 0;
  uint64_t used_ring_ = 0;
  bool event_idx_ = false;
  bool indirect_ = false;

  const GuestMemory* mem_ = nullptr;
  // The rings' host addresses, translated once at activate(): guest memory
  // can go away under a running queue (a virtio-mem block the guest
  // unplugs), and a translation repeated then would fail. What they point
  // to stays mapped for as long as the GuestMemory lives.
  uint8_t* desc_host_ = nullptr;
  uint8_t* avail_host_ = nullptr;
  uint8_t* used_host_ = nullptr;
  uint16_t next_avail_ = 0;
  uint16_t next_used_ = 0;
  // next_used_ when the driver was last told (or not told) about used entries.
  uint16_t signalled_used_ = 0;
  bool signalled_valid_ = false;
};

}  // namespace vmrt::vmm::virtio
