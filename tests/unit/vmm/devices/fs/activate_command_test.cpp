// The file server's check of an Activate command from the VMM: a command as
// the VMM sends it is accepted; wrong lengths, counts, descriptor numbers,
// sizes and rings outside guest RAM are refused with a reason.
#include "vmm/devices/fs/activate_command.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace vmrt::vmm::fs {
namespace {

wire::Command two_queues() {
  wire::Command cmd{};
  cmd.op = wire::Op::Activate;
  cmd.queue_count = 2;
  cmd.queues[0] = {0x10000, 0x11000, 0x12000, 128, 1, 0};
  cmd.queues[1] = {0x20000, 0x21000, 0x22000, 64, 0, 0};
  return cmd;
}

std::string error_of(const wire::Command& cmd, size_t bytes, size_t fds, const GuestMemory& mem) {
  try {
    queues_for(cmd, bytes, fds, mem);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(ActivateCommand, TheVmmsCommandGivesItsQueues) {
  GuestMemory mem = GuestMemory::create(1 << 20);
  auto queues = queues_for(two_queues(), sizeof(wire::Command), 4, mem);
  ASSERT_EQ(queues.size(), 2u);
  EXPECT_TRUE(queues[0].ready());
  EXPECT_EQ(queues[0].size(), 128);
  EXPECT_EQ(queues[0].used_ring(), 0x12000u);
  EXPECT_FALSE(queues[1].ready());
  EXPECT_FALSE(queues[0].pop()) << "nothing posted";
}

TEST(ActivateCommand, RefusesWhatTheVmmDoesNotSend) {
  GuestMemory mem = GuestMemory::create(1 << 20);
  wire::Command cmd = two_queues();
  EXPECT_EQ(error_of(cmd, sizeof cmd - 1, 4, mem), "a command of 559 bytes");
  EXPECT_EQ(error_of(cmd, sizeof cmd, 3, mem), "3 descriptors came for 2 queues");
  cmd.queue_count = 18;
  EXPECT_EQ(error_of(cmd, sizeof cmd, 20, mem), "18 queues: 1 to 17 are served");
  cmd = two_queues();
  cmd.queues[1].size = 512;
  EXPECT_EQ(error_of(cmd, sizeof cmd, 4, mem), "queue 1 of size 512");
  cmd = two_queues();
  cmd.op = wire::Op::Reset;
  EXPECT_EQ(error_of(cmd, sizeof cmd, 4, mem), "not an activation");
}

TEST(ActivateCommand, RingsOutsideGuestRamAreRefused) {
  GuestMemory mem = GuestMemory::create(1 << 20);
  wire::Command cmd = two_queues();
  cmd.queues[0].used_ring = 1 << 20;  // just past the end of RAM
  EXPECT_THROW(queues_for(cmd, sizeof cmd, 4, mem), virtio::QueueError);
  cmd = two_queues();
  cmd.queues[0].desc_table = 0x10001;  // misaligned
  EXPECT_THROW(queues_for(cmd, sizeof cmd, 4, mem), virtio::QueueError);
}

}  // namespace
}  // namespace vmrt::vmm::fs
