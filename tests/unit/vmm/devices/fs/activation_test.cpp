// What the VMM gives the file server to serve the queues: in direct mode
// guest RAM and the guest's rings; in relay mode the bounce memory and the
// shadow rings only. Checked on the command itself and on the running
// server (its maps and descriptors, where this test may read them).
#include "vmm/devices/fs/activation.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "common/event_fd.h"
#include "common/tempdir.h"
#include "tests/support/virtio_mmio_driver.h"
#include "vmm/devices/fs/activate_command.h"
#include "vmm/devices/fs/fs_device.h"

namespace vmrt::vmm {
namespace {

// Whether process `pid` maps the file `fd` is open on, or holds a
// descriptor of it. Nullopt when its /proc entries cannot be read (the
// server is not dumpable: only a privileged test reads them).
std::optional<bool> reaches_file(pid_t pid, int fd) {
  struct stat want;
  if (::fstat(fd, &want) != 0) return std::nullopt;
  std::string proc = "/proc/" + std::to_string(pid);
  std::ifstream maps(proc + "/maps");
  if (!maps) return std::nullopt;
  bool found = false;
  // address perms offset major:minor inode path
  for (std::string line; std::getline(maps, line);) {
    std::istringstream in(line);
    std::string range, perms, offset, dev;
    uint64_t inode = 0;
    in >> range >> perms >> offset >> dev >> inode;
    unsigned maj = 0, min = 0;
    if (std::sscanf(dev.c_str(), "%x:%x", &maj, &min) == 2 && inode == want.st_ino &&
        maj == major(want.st_dev) && min == minor(want.st_dev))
      found = true;
  }
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(proc + "/fd", ec)) {
    struct stat st;
    if (::stat(e.path().c_str(), &st) == 0 && st.st_ino == want.st_ino && st.st_dev == want.st_dev)
      found = true;
  }
  if (ec) return std::nullopt;
  return found;
}

class FsActivationTest : public ::testing::TestWithParam<bool> {};

INSTANTIATE_TEST_SUITE_P(Modes, FsActivationTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Relay" : "Direct"; });

// Relay mode exists for RAM the server cannot share: it is given none.
TEST_P(FsActivationTest, TheFileServerGetsGuestRamOnlyInDirectMode) {
  TempDir dir{"fs-activation-test"};
  fs::FsConfig cfg;
  cfg.tag = "t";
  cfg.server.shared_dir = dir.path();
  cfg.relay = GetParam();
  // Before guest RAM, as the VMM does: the fork copies mappings.
  auto device = std::make_shared<fs::FsDevice>(cfg);
  GuestMemory mem = GuestMemory::create(4 << 20);
  test::VirtioDriver hiprio{mem, 16, 0x10000, 0x100000}, requests{mem, 16, 0x20000, 0x200000};
  virtio::MmioTransport transport(mem, device);
  // Activated once this returns: the server has mapped what it was given.
  ASSERT_FALSE(test::bring_up(transport, {&hiprio, &requests}) & VIRTIO_CONFIG_S_NEEDS_RESET);
  std::optional<bool> reaches = reaches_file(device->server_pid(), mem.fd());
  if (!reaches) GTEST_SKIP() << "the file server's /proc entries are not readable here";
  EXPECT_EQ(*reaches, !GetParam());
}

// What the activation command carries in relay mode: the bounce memory
// and the shadow rings, none of the guest's rings or descriptors.
TEST(FsActivationCommandTest, RelayCarriesTheBounceMemoryAndShadowRingsOnly) {
  GuestMemory guest = GuestMemory::create(1 << 20);
  GuestMemory bounce = GuestMemory::create(fs::relay_memory_bytes(fs::relay_request_cap({})));
  virtio::Interrupt irq;
  std::vector<virtio::Queue> queues(2, virtio::Queue(fs::wire::kMaxQueueSize));
  for (auto& q : queues) {
    q.set_size(16);
    q.set_desc_table(0x1000);
    q.set_avail_ring(0x2000);
    q.set_used_ring(0x3000);
    q.set_ready(true);
  }
  virtio::ActivateContext ctx{guest, queues, {101, 102}, irq, ~0ull, {}};
  std::vector<UniqueFd> kicks;
  kicks.push_back(make_eventfd("kick 0"));
  kicks.push_back(make_eventfd("kick 1"));
  std::vector<int> kick_fds{kicks[0].get(), kicks[1].get()};
  fs::RelayStats stats;
  fs::FsRelay relay(bounce, fs::relay_request_cap({}), 2, std::move(kicks), stats);
  fs::Activation a = fs::relay_activation(ctx, bounce, 55, relay);
  EXPECT_EQ(a.fds, (std::vector<int>{bounce.fd(), 55, kick_fds[0], kick_fds[1]}));
  EXPECT_EQ(a.cmd.features, 0u);  // no ring feature of the guest's
  ASSERT_EQ(a.cmd.queue_count, 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(a.cmd.queues[i].desc_table, fs::ShadowQueue::desc_table(i));
    EXPECT_EQ(a.cmd.queues[i].avail_ring, fs::ShadowQueue::avail_ring(i));
    EXPECT_EQ(a.cmd.queues[i].used_ring, fs::ShadowQueue::used_ring(i));
    EXPECT_EQ(a.cmd.queues[i].size, fs::ShadowQueue::kSize);
  }
  // What the server checks before it serves (activate_command.h) accepts it
  // against the bounce memory.
  auto served = fs::queues_for(a.cmd, sizeof a.cmd, a.fds.size(), bounce);
  EXPECT_EQ(served.size(), 2u);
  EXPECT_EQ(fs::direct_activation(ctx, 55).fds[0], guest.fd());
}

}  // namespace
}  // namespace vmrt::vmm
