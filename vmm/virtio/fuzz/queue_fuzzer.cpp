// libFuzzer target: a virtqueue whose rings and descriptors are whatever the
// input says. The device side must pop, translate and complete chains, or
// refuse the ring with QueueError, without touching memory outside the
// (small) guest RAM: AddressSanitizer watches every access.
#include <cstdint>
#include <cstring>

#include "vmm/memory/guest_memory.h"
#include "vmm/virtio/queue.h"

using vmrt::vmm::GuestMemory;
using vmrt::vmm::virtio::Queue;
using vmrt::vmm::virtio::QueueError;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static GuestMemory mem = GuestMemory::create(1 << 20);
  if (size < 2) return 0;
  // First byte: queue size exponent and features; the rest: the first
  // 12 KiB of RAM (descriptor table, avail and used rings, then buffers).
  uint8_t ctl = data[0];
  Queue q(256);
  uint16_t qsize = static_cast<uint16_t>((1u << (ctl & 0x7)) + ((ctl & 0x80) ? 3 : 0));
  q.set_size(qsize);
  // Rings packed back to back, as small as the size allows, so that short
  // inputs already reach the avail ring.
  uint64_t avail = 16ull * qsize, used = (avail + 6 + 2ull * qsize + 3) & ~3ull;
  q.set_desc_table(0x0);
  q.set_avail_ring(avail);
  q.set_used_ring(used);
  q.set_features(ctl & 0x10, ctl & 0x20);
  mem.fill(0, 0x3000, 0);
  size_t n = std::min<size_t>(size - 1, 0x3000);
  mem.write(0, {data + 1, n});
  try {
    q.activate(mem);
    for (int i = 0; i < 1024; ++i) {
      auto chain = q.pop();
      if (!chain) break;
      uint8_t sink = 0;
      for (auto& s : chain->readable)
        for (uint32_t j = 0; j < s.len; j += 512) sink ^= s.data[j];
      for (auto& s : chain->writable)
        if (s.len) s.data[s.len - 1] = sink;
      q.add_used(chain->head, chain->writable_len);
      (void)q.needs_interrupt();
    }
    (void)q.enable_notification();
  } catch (const QueueError&) {
  }
  return 0;
}
