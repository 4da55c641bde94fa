// The virtio-fs relay (relay mode) between a hostile guest's queue and a
// file server's replies. Input: a control byte (0x01 EVENT_IDX, 0x02
// INDIRECT_DESC, 0x80 the server writes raw used entries), then guest RAM
// from 0 (descriptor table of 16 at 0, avail ring at 0x100, used ring at
// 0x200; buffers beyond, in zeroed RAM) up to 0x400 bytes, then the
// server's answers, two bytes each: a reply length, or with 0x80 a used
// entry's id. The relay must relay, copy back, or put the device into
// NEEDS_RESET, touching nothing outside the two memories, and must only
// ever publish chains the server can serve.
#include <cstdint>
#include <cstring>
#include <vector>

#include "common/event_fd.h"
#include "vmm/devices/fs/fs_relay.h"
#include "vmm/virtio/interrupt.h"

using namespace vmrt;
using namespace vmrt::vmm;

namespace {
constexpr uint64_t kRam = 0x400;

uint16_t next16(const uint8_t*& p, const uint8_t* end) {
  if (end - p < 2) return 0;
  uint16_t v;
  std::memcpy(&v, p, 2);
  p += 2;
  return v;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static GuestMemory guest = GuestMemory::create(1 << 20);
  fuse::ServerConfig config;
  config.max_write = 4096;
  static const uint32_t cap = fs::relay_request_cap(config);
  static GuestMemory bounce = GuestMemory::create(fs::relay_memory_bytes(cap));
  if (size < 1) return 0;
  uint8_t ctl = data[0];
  guest.fill(0, 0x10000, 0);
  guest.write(0, {data + 1, std::min<size_t>(size - 1, kRam)});
  const uint8_t* in = data + 1 + std::min<size_t>(size - 1, kRam);
  const uint8_t* end = data + size;

  virtio::Queue q(16);
  q.set_desc_table(0);
  q.set_avail_ring(0x100);
  q.set_used_ring(0x200);
  q.set_features(ctl & 0x01, ctl & 0x02);
  q.set_ready(true);
  q.activate(guest);
  std::vector<virtio::Queue> queues;
  queues.push_back(std::move(q));
  virtio::Interrupt irq;
  bool needs_reset = false;
  virtio::ActivateContext ctx{
      guest, std::move(queues), {-1}, irq, 0, [&](const std::string&) { needs_reset = true; }};
  std::vector<UniqueFd> kicks;
  kicks.push_back(make_eventfd("shadow queue"));
  fs::RelayStats stats;
  fs::FsRelay relay(bounce, cap, 1, std::move(kicks), stats);

  // The server's side of the shadow queue, as the file server sets it up.
  virtio::Queue server(fs::ShadowQueue::kSize);
  server.set_desc_table(fs::ShadowQueue::desc_table(0));
  server.set_avail_ring(fs::ShadowQueue::avail_ring(0));
  server.set_used_ring(fs::ShadowQueue::used_ring(0));
  server.set_ready(true);
  server.activate(bounce);

  relay.start(ctx);
  for (int round = 0; round < 8 && !needs_reset && in < end; ++round) {
    // What the relay published must be well-formed: a QueueError here
    // escapes and fails the run.
    while (auto chain = server.pop()) {
      uint16_t v = next16(in, end);
      if (ctl & 0x80) {
        server.add_used(v, v);  // any id, any length: the relay must refuse
      } else {
        uint32_t len = std::min<uint32_t>(v, chain->writable_len);
        if (len) std::memset(chain->writable[0].data, 0x5a, std::min(len, chain->writable[0].len));
        server.add_used(chain->head, len);
      }
    }
    relay.on_server_used();
  }
  return 0;
}
