// The split virtqueue against a simulated driver: well-formed chains
// (direct, indirect, across index wrap-around), interrupt suppression, and
// the malformed rings a hostile guest can build.
#include "vmm/virtio/queue.h"

#include <gtest/gtest.h>

#include "tests/support/virtio_driver.h"

namespace vmrt::vmm {
namespace {

using test::Buffer;
using test::VirtioDriver;
using virtio::Queue;
using virtio::QueueError;

constexpr uint64_t kRam = 4 << 20;

class VirtioQueueTest : public ::testing::Test {
 protected:
  GuestMemory mem = GuestMemory::create(kRam);
  Queue q{16};
  VirtioDriver driver{mem, 16};
};

TEST_F(VirtioQueueTest, PopsAChainWithReadableThenWritableSegments) {
  driver.configure(q);
  std::vector<uint8_t> hello{'h', 'e', 'l', 'l', 'o'};
  uint64_t in = driver.alloc_bytes(hello);
  uint64_t out = driver.alloc(64);
  uint16_t head = driver.add({{in, 5}, {out, 64, true}});

  auto chain = q.pop();
  ASSERT_TRUE(chain);
  EXPECT_EQ(chain->head, head);
  ASSERT_EQ(chain->readable.size(), 1u);
  ASSERT_EQ(chain->writable.size(), 1u);
  EXPECT_EQ(chain->readable_len, 5u);
  EXPECT_EQ(chain->writable_len, 64u);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(chain->readable[0].data), 5), "hello");
  EXPECT_EQ(chain->writable[0].data, mem.host_ptr(out, 64));
  EXPECT_FALSE(q.pop());

  q.add_used(chain->head, 7);
  auto used = driver.take_used();
  ASSERT_EQ(used.size(), 1u);
  EXPECT_EQ(used[0].id, head);
  EXPECT_EQ(used[0].len, 7u);
}

TEST_F(VirtioQueueTest, PopsAnIndirectChain) {
  driver.configure(q);
  uint64_t a = driver.alloc(10), b = driver.alloc(20), c = driver.alloc(30);
  driver.add_indirect({{a, 10}, {b, 20}, {c, 30, true}});
  auto chain = q.pop();
  ASSERT_TRUE(chain);
  EXPECT_EQ(chain->readable.size(), 2u);
  EXPECT_EQ(chain->readable_len, 30u);
  EXPECT_EQ(chain->writable_len, 30u);
  EXPECT_EQ(chain->readable[1].data, mem.host_ptr(b, 20));
}

TEST_F(VirtioQueueTest, KeepsGoingAcrossIndexWrapAround) {
  driver.configure(q);
  uint64_t buf = driver.alloc(8);
  // 16-bit ring indices wrap after 65536 buffers; the ring slots every 16.
  for (uint32_t i = 0; i < 65536 + 40; ++i) {
    driver.add({{buf, 8, true}});
    auto chain = q.pop();
    ASSERT_TRUE(chain) << "buffer " << i;
    q.add_used(chain->head, i & 0xff);
    auto used = driver.take_used();
    ASSERT_EQ(used.size(), 1u);
    ASSERT_EQ(used[0].len, i & 0xff);
  }
  EXPECT_EQ(q.next_avail(), static_cast<uint16_t>(65536 + 40));
}

TEST_F(VirtioQueueTest, ZeroLengthDescriptorsAreSkipped) {
  driver.configure(q);
  uint64_t buf = driver.alloc(8);
  driver.add({{buf, 0}, {buf, 8, true}});
  auto chain = q.pop();
  ASSERT_TRUE(chain);
  EXPECT_TRUE(chain->readable.empty());
  EXPECT_EQ(chain->writable_len, 8u);
}

TEST_F(VirtioQueueTest, NoInterruptFlagSuppressesInterruptsWithoutEventIdx) {
  driver.configure(q, /*event_idx=*/false);
  uint64_t buf = driver.alloc(8);
  driver.add({{buf, 8, true}});
  q.add_used(q.pop()->head, 0);
  EXPECT_TRUE(q.needs_interrupt());
  driver.set_no_interrupt(true);
  driver.add({{buf, 8, true}});
  q.add_used(q.pop()->head, 0);
  EXPECT_FALSE(q.needs_interrupt());
}

TEST_F(VirtioQueueTest, EventIdxInterruptsOnlyWhenUsedEventIsPassed) {
  driver.configure(q, /*event_idx=*/true);
  uint64_t buf = driver.alloc(8);
  auto complete = [&] {
    driver.add({{buf, 8, true}});
    q.add_used(q.pop()->head, 0);
  };
  complete();                        // used idx 1
  EXPECT_TRUE(q.needs_interrupt());  // the first one always interrupts
  driver.set_used_event(3);          // "interrupt me once entry 3 is used"
  complete();                        // used idx 2
  EXPECT_FALSE(q.needs_interrupt());
  complete();  // used idx 3
  EXPECT_FALSE(q.needs_interrupt());
  complete();  // used idx 4: passes used_event 3
  EXPECT_TRUE(q.needs_interrupt());
  complete();
  EXPECT_FALSE(q.needs_interrupt());  // used_event still 3, already passed
}

TEST_F(VirtioQueueTest, EnableNotificationPublishesAvailEventAndRechecks) {
  driver.configure(q, /*event_idx=*/true);
  uint64_t buf = driver.alloc(8);
  driver.add({{buf, 8, true}});
  driver.add({{buf, 8, true}});
  EXPECT_TRUE(q.pop());
  EXPECT_TRUE(q.enable_notification());  // one more is already there
  EXPECT_EQ(driver.avail_event(), 1);
  EXPECT_TRUE(q.pop());
  EXPECT_FALSE(q.enable_notification());
  EXPECT_EQ(driver.avail_event(), 2);
}

TEST_F(VirtioQueueTest, UndoPopReturnsTheChain) {
  driver.configure(q);
  uint64_t buf = driver.alloc(8);
  uint16_t head = driver.add({{buf, 8, true}});
  ASSERT_TRUE(q.pop());
  q.undo_pop();
  auto again = q.pop();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->head, head);
}

// --- configuration checks at DRIVER_OK ---

TEST_F(VirtioQueueTest, AddsSeveralUsedEntriesAtOnce) {
  driver.configure(q);
  std::vector<virtio::UsedElem> used;
  for (int i = 0; i < 3; ++i) {
    driver.add({{driver.alloc(64), 64, true}});
    used.push_back({q.pop()->head, static_cast<uint32_t>(10 + i)});
  }
  q.add_used(used);
  auto got = driver.take_used();
  ASSERT_EQ(got.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(got[i].id, used[i].head);
    EXPECT_EQ(got[i].len, used[i].len);
  }
  EXPECT_EQ(q.next_used(), 3u);
}

TEST_F(VirtioQueueTest, RefusesASizeThatIsNotAPowerOfTwo) {
  q.set_size(12);
  q.set_desc_table(driver.desc_table());
  q.set_avail_ring(driver.avail_ring());
  q.set_used_ring(driver.used_ring());
  EXPECT_THROW(q.activate(mem), QueueError);
  q.set_size(32);  // larger than the maximum of 16
  EXPECT_THROW(q.activate(mem), QueueError);
}

TEST_F(VirtioQueueTest, RefusesRingsOutsideRamOrMisaligned) {
  q.set_desc_table(kRam - 16);  // runs past the end of RAM
  q.set_avail_ring(driver.avail_ring());
  q.set_used_ring(driver.used_ring());
  EXPECT_THROW(q.activate(mem), QueueError);
  q.set_desc_table(driver.desc_table() + 8);  // not 16-byte aligned
  EXPECT_THROW(q.activate(mem), QueueError);
  q.set_desc_table(driver.desc_table());
  q.set_used_ring(0xffff'ffff'ffff'fff0ull);  // wraps around
  EXPECT_THROW(q.activate(mem), QueueError);
}

// --- malformed rings: each is refused with QueueError, never followed ---

class MalformedRingTest : public VirtioQueueTest {
 protected:
  void SetUp() override { driver.configure(q); }
  std::string pop_error() {
    try {
      q.pop();
    } catch (const QueueError& e) {
      return e.what();
    }
    return "no error";
  }
};

TEST_F(MalformedRingTest, BufferOutsideGuestRam) {
  driver.write_desc(driver.desc_table(), 0, kRam + 0x1000, 16, 0, 0);
  driver.publish(0);
  EXPECT_NE(pop_error().find("outside guest RAM"), std::string::npos);
}

TEST_F(MalformedRingTest, LengthRunningPastTheEndOfRam) {
  driver.write_desc(driver.desc_table(), 0, kRam - 16, 0xffffffff, 0, 0);
  driver.publish(0);
  EXPECT_NE(pop_error().find("outside guest RAM"), std::string::npos);
}

TEST_F(MalformedRingTest, AddressThatWrapsAround) {
  driver.write_desc(driver.desc_table(), 0, 0xffff'ffff'ffff'f000ull, 0x2000, 0, 0);
  driver.publish(0);
  EXPECT_NE(pop_error().find("outside guest RAM"), std::string::npos);
}

TEST_F(MalformedRingTest, LoopInTheNextLinks) {
  uint64_t buf = driver.alloc(8);
  driver.write_desc(driver.desc_table(), 0, buf, 8, VRING_DESC_F_NEXT, 1);
  driver.write_desc(driver.desc_table(), 1, buf, 8, VRING_DESC_F_NEXT, 0);
  driver.publish(0);
  EXPECT_NE(pop_error().find("longer than"), std::string::npos);
}

TEST_F(MalformedRingTest, ChainLongerThanTheQueue) {
  uint64_t buf = driver.alloc(8);
  // 16 descriptors all chained, the last pointing back into the chain.
  for (uint16_t i = 0; i < 16; ++i)
    driver.write_desc(driver.desc_table(), i, buf, 8, VRING_DESC_F_NEXT, (i + 1) % 16);
  driver.publish(0);
  EXPECT_NE(pop_error().find("longer than"), std::string::npos);
}

TEST_F(MalformedRingTest, NextIndexPastTheTable) {
  uint64_t buf = driver.alloc(8);
  driver.write_desc(driver.desc_table(), 0, buf, 8, VRING_DESC_F_NEXT, 200);
  driver.publish(0);
  EXPECT_NE(pop_error().find("past its table"), std::string::npos);
}

TEST_F(MalformedRingTest, HeadPastTheQueue) {
  driver.publish(16);
  EXPECT_NE(pop_error().find("past the queue size"), std::string::npos);
}

TEST_F(MalformedRingTest, AvailIndexRunningAhead) {
  driver.set_avail_idx(100);  // 100 buffers in a ring of 16
  EXPECT_NE(pop_error().find("available buffers"), std::string::npos);
}

TEST_F(MalformedRingTest, ReadableAfterWritable) {
  uint64_t buf = driver.alloc(8);
  driver.write_desc(driver.desc_table(), 0, buf, 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
  driver.write_desc(driver.desc_table(), 1, buf, 8, 0, 0);
  driver.publish(0);
  EXPECT_NE(pop_error().find("after a writable"), std::string::npos);
}

TEST_F(MalformedRingTest, IndirectWithoutTheFeature) {
  Queue plain{16};
  driver.configure(plain, false, /*indirect=*/false);
  uint64_t buf = driver.alloc(8);
  driver.add_indirect({{buf, 8}});
  EXPECT_THROW(plain.pop(), QueueError);
}

TEST_F(MalformedRingTest, IndirectTableNotAMultipleOfDescriptors) {
  uint64_t table = driver.alloc(64);
  driver.write_desc(driver.desc_table(), 0, table, 20, VRING_DESC_F_INDIRECT, 0);
  driver.publish(0);
  EXPECT_NE(pop_error().find("multiple of 16"), std::string::npos);
}

TEST_F(MalformedRingTest, IndirectTableOutsideRam) {
  driver.write_desc(driver.desc_table(), 0, kRam - 16, 64, VRING_DESC_F_INDIRECT, 0);
  driver.publish(0);
  EXPECT_NE(pop_error().find("outside guest RAM"), std::string::npos);
}

TEST_F(MalformedRingTest, NestedIndirectTable) {
  uint64_t inner = driver.alloc(16);
  uint64_t outer = driver.alloc(16);
  driver.write_desc(outer, 0, inner, 16, VRING_DESC_F_INDIRECT, 0);
  driver.write_desc(driver.desc_table(), 0, outer, 16, VRING_DESC_F_INDIRECT, 0);
  driver.publish(0);
  EXPECT_NE(pop_error().find("inside an indirect"), std::string::npos);
}

TEST_F(MalformedRingTest, IndirectWithNextSet) {
  uint64_t table = driver.alloc(16);
  driver.write_desc(driver.desc_table(), 0, table, 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT,
                    1);
  driver.publish(0);
  EXPECT_NE(pop_error().find("NEXT"), std::string::npos);
}

TEST_F(MalformedRingTest, LoopInsideAnIndirectTable) {
  uint64_t buf = driver.alloc(8);
  uint64_t table = driver.alloc(32);
  driver.write_desc(table, 0, buf, 8, VRING_DESC_F_NEXT, 1);
  driver.write_desc(table, 1, buf, 8, VRING_DESC_F_NEXT, 0);
  driver.write_desc(driver.desc_table(), 0, table, 32, VRING_DESC_F_INDIRECT, 0);
  driver.publish(0);
  EXPECT_NE(pop_error().find("longer than"), std::string::npos);
}

}  // namespace
}  // namespace vmrt::vmm
