#pragma once
// Builders of CreateSandbox's pod network part, and the rejection message
// of one, for the agent's network request tests.

#include <gtest/gtest.h>

#include <string>

#include "agent/network/network_config.h"
#include "tests/support/request_code.h"

namespace vmrt::agent::network::test_request {

inline v1::CreateSandboxRequest one_nic(const std::string& mac = "02:00:0a:58:00:05") {
  v1::CreateSandboxRequest r;
  auto* itf = r.add_interfaces();
  itf->set_mac(mac);
  return r;
}

inline void add_address(v1::NetworkInterface* itf, const std::string& ip, uint32_t len) {
  auto* a = itf->add_addresses();
  a->set_ip(ip);
  a->set_prefix_len(len);
}

inline v1::Route* add_route(v1::CreateSandboxRequest& r, const std::string& dst,
                            const std::string& gw, const std::string& dev) {
  auto* route = r.add_routes();
  route->set_destination(dst);
  route->set_gateway(gw);
  route->set_device(dev);
  return route;
}

// The message of the INVALID_ARGUMENT `r` gets (a failed expectation when
// it gets another code).
inline std::string rejection(const v1::CreateSandboxRequest& r) {
  EXPECT_EQ(test::code_of([&] { parse_network(r); }), Code::InvalidArgument);
  return test::request_message([&] { parse_network(r); });
}

}  // namespace vmrt::agent::network::test_request
