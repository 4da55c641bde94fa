#include "vmm/devices/net/rx_buffers.h"

#include <endian.h>
#include <limits.h>

#include <algorithm>
#include <utility>

#include "common/error.h"
#include "vmm/virtio/chain_io.h"

namespace vmrt::vmm::net {

namespace {
// What a frame can occupy in guest buffers, header included.
constexpr size_t kMaxRxLen = kHeaderSize + kMaxFrameLen;
}  // namespace

RxBuffers::RxBuffers(virtio::Queue& queue, Options options, NetCounters& counters)
    : queue_(queue), options_(options), counters_(counters), spill_(kMaxRxLen) {}

std::optional<virtio::DescriptorChain> RxBuffers::pop_usable(size_t& budget) {
  while (budget > 0) {
    --budget;
    auto chain = queue_.pop_or_rearm();
    if (!chain) return std::nullopt;
    // Every buffer must hold at least the header (virtio 1.x 5.1.6.3.1),
    // and the whole chain must fit one readv beside the spill area.
    if (chain->readable.empty() && chain->writable_len >= kHeaderSize &&
        chain->writable.size() < IOV_MAX - 1)
      return chain;
    ++counters_.rx_bad_buffers;
    if (!held_.empty() || !frame_.empty()) out_of_order_ = true;
    queue_.add_used(chain->head, 0);
    used_ = true;
  }
  return std::nullopt;
}

void RxBuffers::hold(virtio::DescriptorChain chain) {
  held_bytes_ += chain.writable_len;
  held_segments_ += chain.writable.size();
  held_.push_back(std::move(chain));
}

virtio::DescriptorChain RxBuffers::take_held() {
  virtio::DescriptorChain chain = std::move(held_.front());
  held_.pop_front();
  held_bytes_ -= chain.writable_len;
  held_segments_ -= chain.writable.size();
  return chain;
}

bool RxBuffers::refill() {
  if (held_.empty() && frame_.empty()) out_of_order_ = false;
  size_t budget = queue_.size();
  auto enough = [&] { return options_.mergeable ? held_bytes_ >= kMaxRxLen : !held_.empty(); };
  while (!enough()) {
    auto chain = pop_usable(budget);
    if (!chain) break;
    // One iovec is left for the spill area.
    if (held_segments_ + chain->writable.size() >= IOV_MAX) {
      queue_.undo_pop();
      break;
    }
    hold(std::move(*chain));
  }
  return !held_.empty();
}

std::vector<iovec> RxBuffers::read_iovecs() {
  std::vector<iovec> iov;
  iov.reserve(held_segments_ + 1);
  // Without a vnet header from the tap, the device writes the header: the
  // frame starts after it.
  size_t skip = options_.header_from_tap ? 0 : kHeaderSize;
  for (const auto& chain : held_) {
    for (const iovec& v : virtio::segment_iovecs(chain.writable, skip, SIZE_MAX)) iov.push_back(v);
    skip = 0;
    if (!options_.mergeable) break;
  }
  iov.push_back({spill_.data(), spill_.size()});
  return iov;
}

void RxBuffers::commit(size_t n) {
  size_t total = n + (options_.header_from_tap ? 0 : kHeaderSize);
  size_t room = options_.mergeable ? held_bytes_ : held_.front().writable_len;
  if (total < kHeaderSize) {
    ++counters_.rx_dropped;  // nothing a guest could parse; the chains stay held
    return;
  }
  if (total > room && !options_.mergeable) {
    ++counters_.rx_dropped;  // the chain stays held for the next frame
    return;
  }
  size_t left = total;
  while (left > 0 && !held_.empty()) {
    virtio::DescriptorChain chain = take_held();
    auto len = static_cast<uint32_t>(std::min<size_t>(left, chain.writable_len));
    left -= len;
    frame_.push_back({std::move(chain), len});
  }
  // The rest was read into the spill area.
  spill_len_ = left;
  spill_pos_ = 0;
  if (left == 0) deliver();
}

bool RxBuffers::resume() {
  size_t budget = queue_.size();
  while (spill_pos_ < spill_len_) {
    // Every descriptor of the ring is in this frame: the driver can post no
    // more, so the frame can never fit.
    if (frame_.size() >= queue_.size()) {
      drop_frame();
      return true;
    }
    auto chain = pop_usable(budget);
    if (!chain) return false;
    size_t n = virtio::copy_to_segments(chain->writable, 0,
                                        {spill_.data() + spill_pos_, spill_len_ - spill_pos_});
    spill_pos_ += n;
    frame_.push_back({std::move(*chain), static_cast<uint32_t>(n)});
  }
  deliver();
  return true;
}

void RxBuffers::give_back() {
  // A frame half placed would be lost in a snapshot anyway: dropped, as a
  // network may drop any frame, and its chains are held again.
  if (pending()) drop_frame();
  if (held_.empty()) return;
  if (out_of_order_) fail("virtio-net: {} receive buffers in flight", held_.size());
  for (size_t i = 0; i < held_.size(); ++i) queue_.undo_pop();
  held_.clear();
  held_bytes_ = held_segments_ = 0;
}

void RxBuffers::drop_frame() {
  ++counters_.rx_dropped;
  // Nothing was published: the chains take the next frame instead.
  for (auto it = frame_.rbegin(); it != frame_.rend(); ++it) {
    held_bytes_ += it->chain.writable_len;
    held_segments_ += it->chain.writable.size();
    held_.push_front(std::move(it->chain));
  }
  frame_.clear();
  spill_len_ = spill_pos_ = 0;
}

void RxBuffers::deliver() {
  auto& first = frame_.front().chain.writable;
  virtio_net_hdr_v1 hdr{};
  if (options_.header_from_tap) {
    virtio::copy_from_segments(first, 0, {reinterpret_cast<uint8_t*>(&hdr), kHeaderSize});
    // DATA_VALID (and NEEDS_CSUM) mean nothing to a driver without
    // GUEST_CSUM; the spec wants flags zero then.
    if (!options_.guest_csum) hdr.flags = 0;
  }
  hdr.num_buffers = htole16(static_cast<uint16_t>(frame_.size()));
  virtio::copy_to_segments(first, 0, {reinterpret_cast<const uint8_t*>(&hdr), kHeaderSize});
  std::vector<virtio::UsedElem> used;
  used.reserve(frame_.size());
  size_t placed = 0;
  for (const auto& p : frame_) {
    used.push_back({p.chain.head, p.len});
    placed += p.len;
  }
  // All at once: the driver reads num_buffers entries as soon as it sees
  // the first.
  queue_.add_used(used);
  used_ = true;
  // commit() placed at least the header. Bytes before frames: whoever sees
  // the frame counted sees its bytes.
  counters_.rx_bytes += placed - std::min(placed, kHeaderSize);
  ++counters_.rx_frames;
  frame_.clear();
  spill_len_ = spill_pos_ = 0;
}

}  // namespace vmrt::vmm::net
