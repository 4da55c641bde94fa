// A vsock stream's buffer of guest data the host socket has not taken yet,
// against a host reader that takes a little at a time so that the buffer
// never drains: its memory stays bounded and the bytes arrive in order.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "common/error.h"
#include "vmm/devices/vsock/connection.h"

namespace vmrt::vmm {
namespace {

using vsock::Connection;

uint8_t pattern(uint64_t i) { return static_cast<uint8_t>(i % 251); }

TEST(VsockConnection, SlowHostReaderKeepsThePendingBufferBounded) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv), 0);
  UniqueFd host(sv[1]);
  int small = 4096;
  ASSERT_EQ(::setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
  Connection conn(UniqueFd(sv[0]), 1024, 40000, Connection::State::Established);

  constexpr size_t kChunk = 16 * 1024;
  constexpr uint64_t kTotal = 64 * uint64_t{Connection::kBufAlloc};  // 16 MiB
  uint64_t pushed = 0, received = 0;
  size_t peak = 0;
  std::vector<uint8_t> chunk(kChunk), got(kChunk);
  while (received < kTotal) {
    // The guest keeps its credit used up...
    while (pushed < kTotal && conn.pending_bytes() + kChunk <= Connection::kBufAlloc) {
      for (size_t i = 0; i < kChunk; ++i) chunk[i] = pattern(pushed + i);
      iovec v{chunk.data(), kChunk};
      ASSERT_TRUE(conn.push({&v, 1}));
      pushed += kChunk;
    }
    // ...while the host takes one chunk at most per round.
    ssize_t n = ::read(host.get(), got.data(), got.size());
    ASSERT_GT(n, 0) << "nothing reached the host socket";
    for (ssize_t i = 0; i < n; ++i)
      ASSERT_EQ(got[i], pattern(received + static_cast<uint64_t>(i))) << "at byte " << received + i;
    received += static_cast<uint64_t>(n);
    ASSERT_TRUE(conn.flush());
    peak = std::max(peak, conn.pending_capacity());
  }
  EXPECT_EQ(received, kTotal);
  EXPECT_LE(peak, 4 * size_t{Connection::kBufAlloc}) << "the kept data is at most kBufAlloc";
  EXPECT_EQ(conn.fwd_cnt(), static_cast<uint32_t>(kTotal));
}

}  // namespace
}  // namespace vmrt::vmm
