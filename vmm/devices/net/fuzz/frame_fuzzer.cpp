// libFuzzer target: the virtio-net device's handling of guest buffers.
// Even first byte: a transmit chain split into segments at input-chosen
// points, checked against input-chosen features; whatever parse_tx_chain
// accepts must be consistent with the chain and the features. Odd first
// byte: a receive ring that is whatever the input says, filled with frames
// of input-chosen lengths through RxBuffers (mergeable or not, header from
// the tap or not); AddressSanitizer watches every write into guest memory.
#include <cstdint>
#include <cstring>
#include <vector>

#include "vmm/devices/net/rx_buffers.h"
#include "vmm/devices/net/tx_frame.h"
#include "vmm/memory/guest_memory.h"
#include "vmm/virtio/fuzz/chain_from_input.h"

using namespace vmrt::vmm;

namespace {

void fuzz_tx(const uint8_t* data, size_t size) {
  if (size < 3) return;
  // Byte 1: feature bits CSUM, HOST_TSO4, HOST_TSO6 and a writable tail;
  // byte 2: where the segments are cut.
  uint64_t features = 0;
  if (data[1] & 1) features |= 1ull << VIRTIO_NET_F_CSUM;
  if (data[1] & 2) features |= 1ull << VIRTIO_NET_F_HOST_TSO4;
  if (data[1] & 4) features |= 1ull << VIRTIO_NET_F_HOST_TSO6;
  bool writable_tail = data[1] & 8;
  virtio::fuzz::ChainFromInput in;
  virtio::fuzz::fill_readable(in, data + 3, size - 3, data[2]);
  virtio::DescriptorChain& chain = in.chain;
  uint8_t tail[16];
  if (writable_tail) {
    chain.writable.push_back({tail, sizeof tail});
    chain.writable_len = sizeof tail;
  }
  net::TxFrame f = net::parse_tx_chain(chain, features);
  if (!f.error.empty()) return;
  size_t total = 0;
  for (const iovec& v : f.frame) total += v.iov_len;
  bool consistent =
      !writable_tail && total == f.frame_len &&
      f.frame_len + net::kHeaderSize == chain.readable_len && f.frame_len <= net::kMaxFrameLen &&
      (!(f.hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) || (features & (1ull << VIRTIO_NET_F_CSUM))) &&
      (f.hdr.gso_type != VIRTIO_NET_HDR_GSO_TCPV4 || (features & (1ull << VIRTIO_NET_F_HOST_TSO4)));
  if (!consistent) __builtin_trap();
}

void fuzz_rx(const uint8_t* data, size_t size) {
  static GuestMemory mem = GuestMemory::create(1 << 20);
  if (size < 20) return;
  // Byte 1: queue size exponent, EVENT_IDX, INDIRECT, mergeable, header from
  // the tap; bytes 2..17: eight frame lengths; the rest: the first 12 KiB of
  // RAM (descriptor table, avail and used rings, then buffers).
  uint8_t ctl = data[1];
  uint16_t qsize = static_cast<uint16_t>(1u << (ctl & 0x7));
  uint64_t avail = 16ull * qsize, used = (avail + 6 + 2ull * qsize + 3) & ~3ull;
  virtio::Queue q(256);
  q.set_size(qsize);
  q.set_desc_table(0);
  q.set_avail_ring(avail);
  q.set_used_ring(used);
  q.set_features(ctl & 0x08, ctl & 0x10);
  mem.fill(0, 0x3000, 0);
  mem.write(0, {data + 18, std::min<size_t>(size - 18, 0x3000)});
  net::NetCounters counters;
  net::RxBuffers::Options options;
  options.mergeable = ctl & 0x20;
  options.header_from_tap = ctl & 0x40;
  options.guest_csum = ctl & 0x80;
  try {
    q.activate(mem);
    net::RxBuffers rx(q, options, counters);
    for (int i = 0; i < 8; ++i) {
      if (rx.pending()) {
        if (!rx.resume()) break;
        continue;
      }
      if (!rx.refill()) break;
      // What a readv of a frame of `want` bytes would write.
      size_t want = (size_t{data[2 + 2 * i]} << 8 | data[3 + 2 * i]) * 3;
      size_t n = 0;
      for (const iovec& v : rx.read_iovecs()) {
        size_t k = std::min(v.iov_len, want - n);
        std::memset(v.iov_base, 0xab, k);
        n += k;
        if (n == want) break;
      }
      rx.commit(n);
      (void)rx.take_used();
    }
  } catch (const virtio::QueueError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  if (data[0] & 1)
    fuzz_rx(data, size);
  else
    fuzz_tx(data, size);
  return 0;
}
