// The pod network's translation into CreateSandbox.
#include "sandbox/agent_client.h"

#include <gtest/gtest.h>

namespace vmrt::sandbox {
namespace {

TEST(SandboxPodNetwork, EveryFieldReachesCreateSandbox) {
  PodNetwork n;
  n.interfaces.push_back({"eth0", "02:00:0a:58:00:05", 1450, {{"10.88.0.5", 16}, {"fd00::5", 64}}});
  n.routes.push_back({"", "10.88.0.1", "eth0", 0, ""});
  n.routes.push_back({"10.88.0.0/16", "", "eth0", 253, "10.88.0.5"});
  v1::CreateSandboxRequest r;
  add_pod_network(n, r);
  ASSERT_EQ(r.interfaces_size(), 1);
  EXPECT_EQ(r.interfaces(0).name(), "eth0");
  EXPECT_EQ(r.interfaces(0).mac(), "02:00:0a:58:00:05");
  EXPECT_EQ(r.interfaces(0).mtu(), 1450u);
  ASSERT_EQ(r.interfaces(0).addresses_size(), 2);
  EXPECT_EQ(r.interfaces(0).addresses(1).ip(), "fd00::5");
  EXPECT_EQ(r.interfaces(0).addresses(1).prefix_len(), 64u);
  ASSERT_EQ(r.routes_size(), 2);
  EXPECT_EQ(r.routes(0).gateway(), "10.88.0.1");
  EXPECT_EQ(r.routes(0).destination(), "");
  EXPECT_EQ(r.routes(1).destination(), "10.88.0.0/16");
  EXPECT_EQ(r.routes(1).device(), "eth0");
  EXPECT_EQ(r.routes(1).scope(), 253u);
  EXPECT_EQ(r.routes(1).source(), "10.88.0.5");
  EXPECT_FALSE(n.empty());
  EXPECT_TRUE(PodNetwork{}.empty());
}

}  // namespace
}  // namespace vmrt::sandbox
