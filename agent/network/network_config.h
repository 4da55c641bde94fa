#pragma once
// The guest network a CreateSandbox asks for, checked and translated from
// the request into kernel terms (address bytes, families, prefix lengths)
// before anything is configured, so that a bad request changes nothing.
// Every check throws RequestError(INVALID_ARGUMENT) naming the field, e.g.
//   interfaces[0].addresses[1]: prefix_len 33 is out of range for IPv4

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "proto/agent.pb.h"

namespace vmrt::agent::network {

// An IPv4 or IPv6 address in network byte order.
struct IpAddr {
  int family = 0;  // AF_INET or AF_INET6
  std::array<uint8_t, 16> bytes{};
  size_t size() const { return family == AF_INET6 ? 16 : 4; }
  std::string str() const;  // as inet_ntop writes it
};

struct InterfaceAddress {
  IpAddr ip;
  uint8_t prefix_len = 0;
};

struct Interface {
  std::string name;  // in the guest
  std::array<uint8_t, 6> mac{};
  // The MAC the link has now when it differs (a VM restored from a
  // template): the link is found by it and given `mac`.
  std::optional<std::array<uint8_t, 6>> current_mac;
  uint32_t mtu = 0;  // 0: keep
  std::vector<InterfaceAddress> addresses;
  std::string mac_str() const;
};

struct Route {
  int family = 0;
  IpAddr destination;  // all zero for a default route
  uint8_t prefix_len = 0;
  IpAddr gateway;       // family 0: none
  std::string device;   // "" (only with a gateway), "lo" or an interface's name
  uint8_t scope = 0;    // rtnetlink scope, defaults already resolved
  IpAddr source;        // family 0: none
  uint32_t metric = 0;  // 0: the kernel's default
  // "10.96.0.0/12 via 10.88.0.1 dev eth0": for messages.
  std::string str() const;
};

struct NetworkConfig {
  std::vector<Interface> interfaces;
  std::vector<Route> routes;  // in the order to add them: device routes first
  bool empty() const { return interfaces.empty() && routes.empty(); }
};

// The name an interface gets without one.
inline constexpr const char* kDefaultInterfaceName = "eth0";

// What one request may ask for. A pod has one NIC with an address or two
// (one per family) and a handful of routes; the bounds only keep a hostile
// or broken request from making the agent add routes by the million.
inline constexpr int kMaxInterfaces = 8;
inline constexpr int kMaxAddresses = 32;  // per interface
inline constexpr int kMaxRoutes = 256;

// fe80::/10: an IPv6 link-local address, which names a host only together
// with a link.
bool is_ipv6_link_local(const IpAddr& ip);

NetworkConfig parse_network(const v1::CreateSandboxRequest& request);

// The parts, for their own tests; `field` names the value in messages.
std::array<uint8_t, 6> parse_mac(const std::string& field, const std::string& text);
IpAddr parse_ip(const std::string& field, const std::string& text);
// "ADDR/LEN" or a bare address (full length).
std::pair<IpAddr, uint8_t> parse_cidr(const std::string& field, const std::string& text);

}  // namespace vmrt::agent::network
