// The agent's listen address: vsock:PORT or unix:/PATH.
#include "agent/service/listen_address.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/request_code.h"

namespace vmrt::agent {
namespace {

using test::request_message;
using ::testing::HasSubstr;

TEST(AgentServiceListenAddress, Parses) {
  ListenAddress v = parse_listen_address("vsock:1024");
  EXPECT_EQ(v.kind, ListenAddress::Kind::Vsock);
  EXPECT_EQ(v.port, 1024u);
  EXPECT_EQ(v.to_string(), "vsock:1024");
  ListenAddress u = parse_listen_address("unix:/run/agent.sock");
  EXPECT_EQ(u.kind, ListenAddress::Kind::Unix);
  EXPECT_EQ(u.path, "/run/agent.sock");
  EXPECT_EQ(u.to_string(), "unix:/run/agent.sock");
}

TEST(AgentServiceListenAddress, RejectsMalformedAddresses) {
  for (const char* a :
       {"vsock:", "vsock:x", "vsock:-1", "vsock:4294967295", "vsock:99999999999", "vsock:1 "})
    EXPECT_THAT(request_message([&] { parse_listen_address(a); }), HasSubstr("vsock port")) << a;
  EXPECT_THAT(request_message([] { parse_listen_address("unix:rel.sock"); }),
              HasSubstr("absolute"));
  EXPECT_THAT(request_message([] { parse_listen_address("tcp:1.2.3.4:5"); }),
              HasSubstr("expected vsock:PORT or unix:/PATH"));
}

}  // namespace
}  // namespace vmrt::agent
