#pragma once
// What the host's port relay and the guest agent's forwarder say on the
// forwarder's vsock port before a connection carries a forwarded stream.
// One request line per connection:
//   "PORTS\n"          -> "PORTS 80 8080\n": the ports listened on in the
//                         pod's network namespace (wildcard or loopback),
//                         at most kMaxPorts of them, ascending
//   "FORWARD <port>\n" -> "OK\n", then the connection is a stream to
//                         127.0.0.1:<port> in the guest; or "ERR <why>\n"
// Lines are short and bounded (kMaxLine); anything else is refused.

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace vmrt::forward {

// The agent's forwarder port, next to its ttrpc port 1024.
inline constexpr uint32_t kForwarderVsockPort = 1025;
// The most ports a PORTS answer carries: the host listens on no more.
inline constexpr size_t kMaxPorts = 256;
inline constexpr size_t kMaxLine = kMaxPorts * 6 + 16;

struct Request {
  enum class Kind { Ports, Forward };
  Kind kind = Kind::Ports;
  uint16_t port = 0;  // Forward: 1..65535
};

// The request of `line` (without its '\n'), or nullopt when it is not one.
std::optional<Request> parse_request(std::string_view line);
std::string forward_line(uint16_t port);  // "FORWARD 8080\n"
inline constexpr std::string_view kPortsLine = "PORTS\n";
inline constexpr std::string_view kOkLine = "OK\n";

// "PORTS 80 8080\n", the first kMaxPorts of `ports`.
std::string ports_line(const std::set<uint16_t>& ports);
// The ports of a PORTS answer (without its '\n'); nullopt when malformed
// (a port out of range, too many, not ascending, stray characters).
std::optional<std::set<uint16_t>> parse_ports(std::string_view line);

}  // namespace vmrt::forward
