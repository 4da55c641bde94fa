// The relay's side of a shadow queue against a virtio::Queue serving it, as
// the file server does: chains of a readable and a writable descriptor in
// bounce memory, answered in any order; and what a misbehaving server
// writes into the used ring (a descriptor not in flight, a length past its
// buffer, more entries than requests) is refused as a QueueError.
#include "vmm/devices/fs/shadow_queue.h"

#include <gtest/gtest.h>

#include "vmm/virtio/virtio_ring_abi.h"

namespace vmrt::vmm::fs {
namespace {

class ShadowQueueTest : public ::testing::Test {
 public:
  void SetUp() override {
    server.set_size(ShadowQueue::kSize);
    server.set_desc_table(ShadowQueue::desc_table(1));
    server.set_avail_ring(ShadowQueue::avail_ring(1));
    server.set_used_ring(ShadowQueue::used_ring(1));
    server.set_ready(true);
    server.activate(bounce);
  }
  // What the server writes as its used entry: used index moved by one.
  void raw_used(uint16_t id, uint32_t len) {
    uint16_t idx = bounce.read_obj<uint16_t>(ShadowQueue::used_ring(1) + 2);
    bounce.write_obj(ShadowQueue::used_ring(1) + 4 + 8ull * (idx % ShadowQueue::kSize),
                     vring_used_elem{id, len});
    bounce.write_obj<uint16_t>(ShadowQueue::used_ring(1) + 2, static_cast<uint16_t>(idx + 1));
  }

  GuestMemory bounce = GuestMemory::create(1 << 20);
  ShadowQueue shadow{bounce, 1};
  virtio::Queue server{ShadowQueue::kSize};
};

TEST_F(ShadowQueueTest, ChainsReachTheServerAndRepliesComeBackInAnyOrder) {
  constexpr uint64_t kData = ShadowQueue::kDataStart;
  uint16_t a = shadow.acquire(), b = shadow.acquire();
  shadow.publish(a, kData, 100, kData + 4096, 200);
  shadow.publish(b, kData + 8192, 50, 0, 0);  // no reply room (a FORGET)
  auto ca = server.pop(), cb = server.pop();
  ASSERT_TRUE(ca && cb);
  ASSERT_EQ(ca->readable.size(), 1u);
  EXPECT_EQ(ca->readable[0].data, bounce.host_ptr(kData, 100));
  EXPECT_EQ(ca->writable_len, 200u);
  EXPECT_EQ(ca->writable[0].data, bounce.host_ptr(kData + 4096, 200));
  EXPECT_EQ(cb->readable_len, 50u);
  EXPECT_TRUE(cb->writable.empty());
  EXPECT_FALSE(server.pop());
  server.add_used(cb->head, 0);
  server.add_used(ca->head, 120);
  auto used = shadow.take_used();
  ASSERT_EQ(used.size(), 2u);
  EXPECT_EQ(used[0].head, b);
  EXPECT_EQ(used[1].head, a);
  EXPECT_EQ(used[1].len, 120u);
  EXPECT_TRUE(shadow.take_used().empty());
}

TEST_F(ShadowQueueTest, SlotsRunOutAndComeBack) {
  for (int i = 0; i < ShadowQueue::kSlots; ++i) {
    ASSERT_FALSE(shadow.full());
    shadow.publish(shadow.acquire(), ShadowQueue::kDataStart, 16, 0, 0);
  }
  EXPECT_TRUE(shadow.full());
  auto c = server.pop();
  server.add_used(c->head, 0);
  EXPECT_EQ(shadow.take_used().size(), 1u);
  EXPECT_FALSE(shadow.full());
}

TEST_F(ShadowQueueTest, RefusesUsedEntriesForNoSlotInFlight) {
  uint16_t a = shadow.acquire();
  shadow.publish(a, ShadowQueue::kDataStart, 16, ShadowQueue::kDataStart + 4096, 64);
  raw_used(static_cast<uint16_t>(2 * a + 1), 0);  // the writable descriptor, not a head
  EXPECT_THROW(shadow.take_used(), virtio::QueueError);
}

TEST_F(ShadowQueueTest, RefusesASlotAnsweredTwice) {
  uint16_t a = shadow.acquire();
  shadow.publish(a, ShadowQueue::kDataStart, 16, 0, 0);
  uint16_t b = shadow.acquire();
  shadow.publish(b, ShadowQueue::kDataStart, 16, 0, 0);
  raw_used(static_cast<uint16_t>(2 * a), 0);
  raw_used(static_cast<uint16_t>(2 * a), 0);
  EXPECT_THROW(shadow.take_used(), virtio::QueueError);
}

TEST_F(ShadowQueueTest, RefusesALengthPastTheReplyRoom) {
  uint16_t a = shadow.acquire();
  shadow.publish(a, ShadowQueue::kDataStart, 16, ShadowQueue::kDataStart + 4096, 64);
  raw_used(static_cast<uint16_t>(2 * a), 65);
  EXPECT_THROW(shadow.take_used(), virtio::QueueError);
}

TEST_F(ShadowQueueTest, RefusesMoreUsedEntriesThanRequests) {
  bounce.write_obj<uint16_t>(ShadowQueue::used_ring(1) + 2, 3);
  EXPECT_THROW(shadow.take_used(), virtio::QueueError);
}

}  // namespace
}  // namespace vmrt::vmm::fs
