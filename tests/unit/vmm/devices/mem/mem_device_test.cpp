// virtio-mem through its virtio-mmio transport, driven by a simulated guest
// driver over fake guest memory with a hotplug region: the configuration
// the Linux driver reads, the request state machine (plug, unplug, unplug
// all, state; NACK past requested_size; ERROR for bad ranges and wrong
// block states), malformed chains, resizing from the host with its
// configuration-change interrupt, and snapshots.
#include "vmm/devices/mem/mem_device.h"

#include <gtest/gtest.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mem.h>

#include <chrono>
#include <cstddef>
#include <thread>

#include "common/error.h"
#include "tests/support/virtio_driver.h"
#include "tests/support/virtio_mmio_driver.h"
#include "vmm/virtio/mmio_transport.h"

namespace vmrt::vmm {
namespace {

using namespace std::chrono_literals;
using test::mmio_read;
using test::mmio_write;

constexpr uint64_t kBlock = HotplugRegion::kBlockSize;
constexpr uint64_t kConfig = 0x100;  // the virtio-mmio configuration space
constexpr uint64_t kFeatures =
    (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_MEM_F_UNPLUGGED_INACCESSIBLE);

GuestMemory make_memory() {
  GuestMemory m = GuestMemory::create(32 << 20);
  m.add_hotplug(128 << 20);
  return m;
}

class MemDeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    device = std::make_shared<mem::MemDevice>(*mem.hotplug());
    transport = std::make_unique<virtio::MmioTransport>(mem, device);
  }
  void TearDown() override { transport.reset(); }

  void bring_up() {
    uint32_t st = test::bring_up(*transport, {&queue}, kFeatures);
    ASSERT_TRUE(st & VIRTIO_CONFIG_S_DRIVER_OK);
    ASSERT_FALSE(st & VIRTIO_CONFIG_S_NEEDS_RESET);
  }

  uint64_t config64(size_t offset) {
    // As Linux's virtio-mmio reads a 64-bit field: two 32-bit halves.
    uint64_t lo = mmio_read(*transport, kConfig + offset);
    uint64_t hi = mmio_read(*transport, kConfig + offset + 4);
    return lo | hi << 32;
  }
  uint64_t requested() { return config64(offsetof(virtio_mem_config, requested_size)); }
  uint64_t plugged() { return config64(offsetof(virtio_mem_config, plugged_size)); }

  // Waits for `n` used entries.
  std::vector<test::Used> wait_used(size_t n) {
    std::vector<test::Used> all;
    for (int i = 0; i < 5000 && all.size() < n; ++i) {
      for (auto u : queue.take_used()) all.push_back(u);
      if (all.size() < n) std::this_thread::sleep_for(1ms);
    }
    return all;
  }

  // Sends one request in the usual two descriptors; returns the response.
  virtio_mem_resp send(uint16_t type, uint64_t addr = 0, uint16_t nb_blocks = 0) {
    virtio_mem_req req{};
    req.type = type;
    req.u.plug.addr = addr;
    req.u.plug.nb_blocks = nb_blocks;
    uint64_t req_gpa = queue.alloc_bytes({reinterpret_cast<const uint8_t*>(&req), sizeof req});
    uint64_t resp_gpa = queue.alloc(sizeof(virtio_mem_resp), 0xee);
    queue.add({{req_gpa, sizeof req}, {resp_gpa, sizeof(virtio_mem_resp), true}});
    mmio_write(*transport, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    auto used = wait_used(1);
    EXPECT_EQ(used.size(), 1u);
    if (!used.empty()) EXPECT_EQ(used[0].len, sizeof(virtio_mem_resp));
    return mem.read_obj<virtio_mem_resp>(resp_gpa);
  }
  uint64_t block(uint64_t n) const { return base + n * kBlock; }

  GuestMemory mem = make_memory();
  const uint64_t base = mem.hotplug()->gpa();
  test::VirtioDriver queue{mem, 16, 0x10000, 0x100000};
  std::shared_ptr<mem::MemDevice> device;
  std::unique_ptr<virtio::MmioTransport> transport;
};

TEST_F(MemDeviceTest, IdentityFeaturesAndConfiguration) {
  EXPECT_EQ(mmio_read(*transport, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_MEM);
  mmio_write(*transport, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
  uint32_t features = mmio_read(*transport, VIRTIO_MMIO_DEVICE_FEATURES);
  EXPECT_TRUE(features & (1u << VIRTIO_MEM_F_UNPLUGGED_INACCESSIBLE));
  EXPECT_FALSE(features & (1u << VIRTIO_MEM_F_ACPI_PXM));  // no ACPI here
  EXPECT_EQ(config64(offsetof(virtio_mem_config, block_size)), kBlock);
  EXPECT_EQ(mmio_read(*transport, kConfig + offsetof(virtio_mem_config, node_id)) & 0xffff, 0u);
  EXPECT_EQ(config64(offsetof(virtio_mem_config, addr)), base);
  EXPECT_EQ(config64(offsetof(virtio_mem_config, region_size)), 128u << 20);
  EXPECT_EQ(config64(offsetof(virtio_mem_config, usable_region_size)), 128u << 20);
  EXPECT_EQ(plugged(), 0u);
  EXPECT_EQ(requested(), 0u);
  EXPECT_EQ(base % (uint64_t{1} << 30), 0u);  // a GiB boundary: whole memory blocks
}

TEST_F(MemDeviceTest, PlugsUpToTheRequestedSizeAndNoFurther) {
  bring_up();
  // Nothing requested: a plug is refused, not an error.
  EXPECT_EQ(send(VIRTIO_MEM_REQ_PLUG, block(0), 1).type, VIRTIO_MEM_RESP_NACK);
  device->set_requested_size(4 * kBlock);
  EXPECT_EQ(requested(), 4 * kBlock);
  EXPECT_EQ(send(VIRTIO_MEM_REQ_PLUG, block(0), 3).type, VIRTIO_MEM_RESP_ACK);
  EXPECT_EQ(plugged(), 3 * kBlock);
  EXPECT_EQ(send(VIRTIO_MEM_REQ_PLUG, block(10), 2).type, VIRTIO_MEM_RESP_NACK);
  EXPECT_EQ(send(VIRTIO_MEM_REQ_PLUG, block(10), 1).type, VIRTIO_MEM_RESP_ACK);
  EXPECT_EQ(plugged(), 4 * kBlock);
  // Plugged memory is guest memory the devices can use.
  EXPECT_NE(mem.host_ptr(block(10), kBlock), nullptr);
  EXPECT_EQ(mem.host_ptr(block(11), 1), nullptr);
  const mem::MemCounters& c = device->counters();
  EXPECT_EQ(c.plug_requests.load(), 4u);
  EXPECT_EQ(c.nacks.load(), 2u);
  EXPECT_EQ(c.errors.load(), 0u);
}

TEST_F(MemDeviceTest, WrongBlockStatesAndRangesAreErrors) {
  bring_up();
  device->set_requested_size(128 << 20);
  ASSERT_EQ(send(VIRTIO_MEM_REQ_PLUG, block(2), 2).type, VIRTIO_MEM_RESP_ACK);
  // Plugging a plugged block, unplugging an unplugged one.
  EXPECT_EQ(send(VIRTIO_MEM_REQ_PLUG, block(3), 2).type, VIRTIO_MEM_RESP_ERROR);
  EXPECT_EQ(send(VIRTIO_MEM_REQ_UNPLUG, block(1), 2).type, VIRTIO_MEM_RESP_ERROR);
  // Unaligned, empty, outside, past the end, wrapping.
  EXPECT_EQ(send(VIRTIO_MEM_REQ_PLUG, block(5) + 4096, 1).type, VIRTIO_MEM_RESP_ERROR);
  EXPECT_EQ(send(VIRTIO_MEM_REQ_PLUG, block(5), 0).type, VIRTIO_MEM_RESP_ERROR);
  EXPECT_EQ(send(VIRTIO_MEM_REQ_PLUG, base - kBlock, 1).type, VIRTIO_MEM_RESP_ERROR);
  EXPECT_EQ(send(VIRTIO_MEM_REQ_PLUG, block(63), 2).type, VIRTIO_MEM_RESP_ERROR);
  EXPECT_EQ(send(VIRTIO_MEM_REQ_STATE, UINT64_MAX - kBlock + 1, 1).type, VIRTIO_MEM_RESP_ERROR);
  EXPECT_EQ(send(0x77, block(0), 1).type, VIRTIO_MEM_RESP_ERROR);
  EXPECT_EQ(device->counters().errors.load(), 8u);
  EXPECT_EQ(plugged(), 2 * kBlock);  // none of them changed anything
}

TEST_F(MemDeviceTest, StateUnplugAndUnplugAll) {
  bring_up();
  device->set_requested_size(16 * kBlock);
  ASSERT_EQ(send(VIRTIO_MEM_REQ_PLUG, block(4), 4).type, VIRTIO_MEM_RESP_ACK);
  auto state = [&](uint64_t first, uint16_t n) {
    virtio_mem_resp r = send(VIRTIO_MEM_REQ_STATE, block(first), n);
    EXPECT_EQ(r.type, VIRTIO_MEM_RESP_ACK);
    return r.u.state.state;
  };
  EXPECT_EQ(state(4, 4), VIRTIO_MEM_STATE_PLUGGED);
  EXPECT_EQ(state(0, 4), VIRTIO_MEM_STATE_UNPLUGGED);
  EXPECT_EQ(state(2, 4), VIRTIO_MEM_STATE_MIXED);
  EXPECT_EQ(send(VIRTIO_MEM_REQ_UNPLUG, block(5), 2).type, VIRTIO_MEM_RESP_ACK);
  EXPECT_EQ(state(4, 4), VIRTIO_MEM_STATE_MIXED);
  EXPECT_EQ(plugged(), 2 * kBlock);
  EXPECT_EQ(mem.host_ptr(block(5), 8), nullptr);
  EXPECT_EQ(send(VIRTIO_MEM_REQ_UNPLUG_ALL).type, VIRTIO_MEM_RESP_ACK);
  EXPECT_EQ(plugged(), 0u);
  EXPECT_EQ(state(0, 64), VIRTIO_MEM_STATE_UNPLUGGED);
  EXPECT_EQ(device->counters().unplug_all_requests.load(), 1u);
}

TEST_F(MemDeviceTest, RequestsInPluggedMemoryAreServed) {
  bring_up();
  device->set_requested_size(2 * kBlock);
  ASSERT_EQ(send(VIRTIO_MEM_REQ_PLUG, block(0), 1).type, VIRTIO_MEM_RESP_ACK);
  // The next request and its response live in the plugged block.
  virtio_mem_req req{};
  req.type = VIRTIO_MEM_REQ_STATE;
  req.u.state.addr = block(0);
  req.u.state.nb_blocks = 1;
  mem.write_obj(block(0) + 64, req);
  queue.add({{block(0) + 64, sizeof req}, {block(0) + 128, sizeof(virtio_mem_resp), true}});
  mmio_write(*transport, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
  ASSERT_EQ(wait_used(1).size(), 1u);
  auto resp = mem.read_obj<virtio_mem_resp>(block(0) + 128);
  EXPECT_EQ(resp.type, VIRTIO_MEM_RESP_ACK);
  EXPECT_EQ(resp.u.state.state, VIRTIO_MEM_STATE_PLUGGED);
}

TEST_F(MemDeviceTest, ABufferInAnUnpluggedBlockNeedsReset) {
  bring_up();
  queue.add({{block(1), sizeof(virtio_mem_req)}, {block(1) + 64, 16, true}});
  mmio_write(*transport, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
  for (int i = 0; i < 5000 && !(transport->status() & VIRTIO_CONFIG_S_NEEDS_RESET); ++i)
    std::this_thread::sleep_for(1ms);
  EXPECT_TRUE(transport->status() & VIRTIO_CONFIG_S_NEEDS_RESET);
}

TEST_F(MemDeviceTest, ShortChainsAreCountedAndGivenBack) {
  bring_up();
  uint64_t a = queue.alloc(64);
  queue.add({{a, sizeof(virtio_mem_req) - 1}, {a + 32, 16, true}});
  queue.add({{a, sizeof(virtio_mem_req)}, {a + 32, sizeof(virtio_mem_resp) - 1, true}});
  queue.add({{a, sizeof(virtio_mem_req)}});
  mmio_write(*transport, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
  auto used = wait_used(3);
  ASSERT_EQ(used.size(), 3u);
  for (auto u : used) EXPECT_EQ(u.len, 0u);
  EXPECT_EQ(device->counters().malformed.load(), 3u);
  EXPECT_FALSE(transport->status() & VIRTIO_CONFIG_S_NEEDS_RESET);
}

TEST_F(MemDeviceTest, ResizingRaisesAConfigurationChange) {
  bring_up();
  uint32_t generation = mmio_read(*transport, VIRTIO_MMIO_CONFIG_GENERATION);
  mmio_write(*transport, VIRTIO_MMIO_INTERRUPT_ACK, 3);
  device->set_requested_size(64 << 20);
  EXPECT_TRUE(mmio_read(*transport, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
  EXPECT_NE(mmio_read(*transport, VIRTIO_MMIO_CONFIG_GENERATION), generation);
  EXPECT_EQ(requested(), 64u << 20);
  // A plug moves the generation too (plugged_size changed).
  generation = mmio_read(*transport, VIRTIO_MMIO_CONFIG_GENERATION);
  ASSERT_EQ(send(VIRTIO_MEM_REQ_PLUG, block(0), 1).type, VIRTIO_MEM_RESP_ACK);
  EXPECT_NE(mmio_read(*transport, VIRTIO_MMIO_CONFIG_GENERATION), generation);
  mem::MemStatus s = device->status();
  EXPECT_EQ(s.region_bytes, 128u << 20);
  EXPECT_EQ(s.block_bytes, kBlock);
  EXPECT_EQ(s.requested_bytes, 64u << 20);
  EXPECT_EQ(s.plugged_bytes, kBlock);
}

TEST_F(MemDeviceTest, RefusesRequestedSizesOffTheBlocksOrPastTheRegion) {
  EXPECT_THROW(device->set_requested_size(kBlock + 4096), Error);
  EXPECT_THROW(device->set_requested_size((128 << 20) + kBlock), Error);
  EXPECT_EQ(device->status().requested_bytes, 0u);
  device->set_requested_size(128 << 20);  // before the driver is up: no interrupt
  EXPECT_EQ(mmio_read(*transport, VIRTIO_MMIO_INTERRUPT_STATUS), 0u);
  EXPECT_EQ(requested(), 128u << 20);
}

TEST_F(MemDeviceTest, BlocksSurviveADriverReset) {
  bring_up();
  device->set_requested_size(4 * kBlock);
  ASSERT_EQ(send(VIRTIO_MEM_REQ_PLUG, block(0), 2).type, VIRTIO_MEM_RESP_ACK);
  mmio_write(*transport, VIRTIO_MMIO_STATUS, 0);
  // The next driver reads plugged_size and unplugs all first.
  EXPECT_EQ(plugged(), 2 * kBlock);
}

TEST_F(MemDeviceTest, SnapshotsOnlyWithNothingPlugged) {
  bring_up();
  device->set_requested_size(4 * kBlock);
  ASSERT_EQ(send(VIRTIO_MEM_REQ_PLUG, block(0), 1).type, VIRTIO_MEM_RESP_ACK);
  EXPECT_THROW(transport->quiesce(), Error);
  EXPECT_FALSE(transport->quiesced());
  EXPECT_THROW(device->save_state(), Error);
  // Still serving after the refusal.
  ASSERT_EQ(send(VIRTIO_MEM_REQ_UNPLUG_ALL).type, VIRTIO_MEM_RESP_ACK);
  transport->quiesce();
  nlohmann::json state = transport->save_state();
  transport->resume();
  EXPECT_EQ(send(VIRTIO_MEM_REQ_STATE, block(0), 1).u.state.state, VIRTIO_MEM_STATE_UNPLUGGED);

  // Restored into a VM like it: the requested size comes along.
  GuestMemory mem2 = make_memory();
  auto device2 = std::make_shared<mem::MemDevice>(*mem2.hotplug());
  virtio::MmioTransport t2(mem2, device2);
  t2.restore_state(state);
  EXPECT_EQ(device2->status().requested_bytes, 4 * kBlock);
  EXPECT_TRUE(t2.status() & VIRTIO_CONFIG_S_DRIVER_OK);
}

// A hostile driver puts a queue's rings in a plugged block, then unplugs
// it: the queue goes on without faulting (it translated the rings once),
// and a chain into the unplugged block is refused.
TEST(MemDeviceState, AQueueWhoseRingsAreUnpluggedDoesNotFault) {
  GuestMemory m = make_memory();
  HotplugRegion& h = *m.hotplug();
  h.plug(0, 1);
  test::VirtioDriver driver{m, 16, h.gpa(), h.gpa() + 0x10000};
  virtio::Queue q(16);
  driver.configure(q);
  driver.add({{driver.alloc(16), 16}});
  h.unplug(0, 1);
  // Freed pages read as zeros: nothing available any more.
  EXPECT_FALSE(q.pop());
  q.add_used(0, 0);
  EXPECT_TRUE(q.needs_interrupt());  // zeroed flags ask for one
  EXPECT_FALSE(q.enable_notification());
  // Plugged again (zeroed again), the driver's next chain points into an
  // unplugged block: the first entry is the zeroed slot 0 (an empty
  // chain), the second that chain, refused.
  h.plug(0, 1);
  driver.add({{h.gpa() + kBlock, 16}});
  EXPECT_TRUE(q.pop());
  EXPECT_THROW(q.pop(), virtio::QueueError);
}

TEST(MemDeviceState, RestoreRefusesStateThatDoesNotFit) {
  GuestMemory m = make_memory();
  mem::MemDevice d(*m.hotplug());
  EXPECT_THROW(d.restore_state(nullptr), Error);
  EXPECT_THROW(d.restore_state({{"region_size", 256 << 20}, {"requested_size", 0}}), Error);
  EXPECT_THROW(d.restore_state({{"region_size", 128 << 20}, {"requested_size", 4096}}), Error);
  EXPECT_THROW(d.restore_state({{"region_size", 128 << 20}}), Error);
  d.restore_state({{"region_size", 128 << 20}, {"requested_size", 2 << 20}});
  EXPECT_EQ(d.status().requested_bytes, 2u << 20);
}

}  // namespace
}  // namespace vmrt::vmm
