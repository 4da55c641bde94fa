// The agent's vsock peer check: the host is served, every other CID (a guest
// process over loopback) refused, with a bounded log of the refusals.
#include "agent/service/peer_check.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace vmrt::agent {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Clock = RefusalLog::Clock;

sockaddr_vm peer(uint32_t cid, uint32_t port = 4000) {
  sockaddr_vm a{};
  a.svm_family = AF_VSOCK;
  a.svm_cid = cid;
  a.svm_port = port;
  return a;
}

TEST(PeerCheck, OnlyTheHostIsServed) {
  EXPECT_TRUE(is_host_peer(peer(VMADDR_CID_HOST)));
  // Loopback shows the guest's processes as CID 1 or as the guest's own.
  for (uint32_t cid : {uint32_t{VMADDR_CID_HYPERVISOR}, uint32_t{VMADDR_CID_LOCAL}, 3u, 4u, 1000u,
                       uint32_t{VMADDR_CID_ANY}})
    EXPECT_FALSE(is_host_peer(peer(cid))) << "CID " << cid;
  sockaddr_vm not_vsock = peer(VMADDR_CID_HOST);
  not_vsock.svm_family = AF_UNIX;
  EXPECT_FALSE(is_host_peer(not_vsock));
}

TEST(PeerCheck, ARefusalIsLoggedWithThePeer) {
  RefusalLog log;
  auto line = log.refused(peer(VMADDR_CID_LOCAL, 51234), Clock::time_point{});
  ASSERT_TRUE(line);
  EXPECT_THAT(*line, HasSubstr("refused a vsock connection from CID 1 port 51234"));
  EXPECT_THAT(*line, HasSubstr("only the host (CID 2)"));
}

// A guest process that connects in a loop gets kLinesPerPeriod lines per
// period into the log; the next period's first line counts the rest.
TEST(PeerCheck, RefusalLinesAreBoundedPerPeriod) {
  RefusalLog log;
  Clock::time_point t0{};
  for (size_t i = 0; i < RefusalLog::kLinesPerPeriod; ++i) {
    auto line = log.refused(peer(3, static_cast<uint32_t>(i)), t0);
    ASSERT_TRUE(line) << "refusal " << i;
    EXPECT_THAT(*line, Not(HasSubstr("more refused")));
  }
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(log.refused(peer(3), t0 + RefusalLog::kPeriod / 2));
  EXPECT_FALSE(log.refused(peer(3), t0 + RefusalLog::kPeriod - Clock::duration(1)));
  auto line = log.refused(peer(3, 7), t0 + RefusalLog::kPeriod);
  ASSERT_TRUE(line);
  EXPECT_THAT(*line, HasSubstr("CID 3 port 7"));
  EXPECT_THAT(*line, HasSubstr("(1001 more refused since the last such line)"));
  // The count starts again after it was said.
  line = log.refused(peer(3, 8), t0 + RefusalLog::kPeriod);
  ASSERT_TRUE(line);
  EXPECT_THAT(*line, Not(HasSubstr("more refused")));
}

}  // namespace
}  // namespace vmrt::agent
