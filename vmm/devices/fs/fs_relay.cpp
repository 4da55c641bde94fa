#include "vmm/devices/fs/fs_relay.h"

#include <linux/xattr.h>

#include <algorithm>

#include "common/event_fd.h"
#include "vmm/virtio/chain_io.h"

namespace vmrt::vmm::fs {

namespace {
// Bounce memory for this many of the largest requests at once (a READ or a
// WRITE of max_write): enough to keep the server's threads busy with large
// transfers, and twice a request that is as large both ways, so that every
// request fits once the others are answered.
constexpr uint64_t kLargestInFlight = 4;
// GuestMemory::adopt takes no less.
constexpr uint64_t kMinMemory = 1 << 20;
}  // namespace

uint32_t relay_request_cap(const fuse::ServerConfig& config) {
  // max_write as the server rounds it (whole pages, 4 KiB to 1 MiB).
  uint32_t max_write = std::clamp<uint32_t>(config.max_write & ~4095u, 4096, 1u << 20);
  return std::max<uint32_t>(max_write, XATTR_SIZE_MAX) +
         static_cast<uint32_t>(fuse::Server::kMaxHeaderBytes);
}

uint64_t relay_memory_bytes(uint32_t request_cap) {
  uint64_t data = kLargestInFlight * BounceAllocator::rounded(request_cap);
  return std::max(ShadowQueue::kDataStart + data, kMinMemory);
}

FsRelay::FsRelay(const GuestMemory& bounce, uint32_t request_cap, size_t queues,
                 std::vector<UniqueFd> kicks, RelayStats& stats)
    : bounce_(bounce),
      cap_(request_cap),
      kicks_(std::move(kicks)),
      stats_(stats),
      space_(ShadowQueue::kDataStart, bounce.size() - ShadowQueue::kDataStart) {
  if (kicks_.size() != queues)
    fail("virtio-fs relay: {} kicks for {} queues", kicks_.size(), queues);
  if (2 * BounceAllocator::rounded(cap_) > space_.size())
    fail("virtio-fs relay: {} bytes of bounce memory hold no request of {}", space_.size(), cap_);
  for (size_t q = 0; q < queues; ++q)
    queues_.push_back(std::make_unique<QueueState>(QueueState{
        ShadowQueue(bounce_, q), std::nullopt, std::vector<InFlight>(ShadowQueue::kSlots)}));
}

void FsRelay::start(virtio::ActivateContext& ctx) {
  ctx_ = &ctx;
  for (size_t q = 0; q < queues_.size(); ++q) on_guest_notify(q);
}

void FsRelay::give_up(const std::string& why) {
  broken_ = true;
  ctx_->needs_reset(why);
}

void FsRelay::on_guest_notify(size_t queue) {
  if (broken_) return;
  try {
    pump(queue);
  } catch (const virtio::QueueError& e) {
    give_up(e.what());
  }
}

void FsRelay::on_server_used() {
  if (broken_) return;
  try {
    bool interrupt = false;
    for (size_t q = 0; q < queues_.size(); ++q) interrupt |= complete(q);
    if (interrupt) ctx_->interrupt.signal_used();
    // Replies freed room: the requests that waited for it go first.
    for (size_t q = 0; q < queues_.size(); ++q)
      if (queues_[q]->stalled) pump(q);
  } catch (const virtio::QueueError& e) {
    give_up(e.what());
  }
}

void FsRelay::pump(size_t queue) {
  QueueState& s = *queues_[queue];
  virtio::Queue& guest = ctx_->queues[queue];
  bool published = false;
  for (;;) {
    if (!s.pending) {
      s.pending = guest.pop_or_rearm();
      if (!s.pending) break;
    }
    virtio::DescriptorChain& chain = *s.pending;
    uint32_t in_len = std::min(chain.readable_len, cap_);
    uint32_t out_len = std::min(chain.writable_len, cap_);
    uint64_t in_room = in_len ? BounceAllocator::rounded(in_len) : 0;
    std::optional<uint64_t> at;
    if (s.shadow.full() || !(at = space_.allocate(in_room + out_len))) {
      // Left popped: it goes first once a reply frees room.
      if (!s.stalled) ++stats_.waits;
      s.stalled = true;
      break;
    }
    s.stalled = false;
    virtio::copy_from_segments(chain.readable, 0, bounce_.slice(*at, in_len));
    uint16_t slot = s.shadow.acquire();
    s.slots[slot] = {chain.head, std::move(chain.writable), *at, in_room + out_len, *at + in_room};
    s.shadow.publish(slot, *at, in_len, *at + in_room, out_len);
    s.pending.reset();
    ++stats_.relayed;
    published = true;
  }
  if (published) signal_eventfd(kicks_[queue].get());
}

bool FsRelay::complete(size_t queue) {
  QueueState& s = *queues_[queue];
  std::vector<virtio::UsedElem> used = s.shadow.take_used();
  if (used.empty()) return false;
  virtio::Queue& guest = ctx_->queues[queue];
  for (const virtio::UsedElem& u : used) {
    InFlight& f = s.slots[u.head];
    // u.len is within the slot's reply room, which is within the chain's
    // writable bytes (take_used checked it).
    size_t n = virtio::copy_to_segments(f.writable, 0, bounce_.slice(f.out, u.len));
    guest.add_used(f.head, static_cast<uint32_t>(n));
    space_.release(f.addr, f.bytes);
    f = {};
  }
  return guest.needs_interrupt();
}

}  // namespace vmrt::vmm::fs
