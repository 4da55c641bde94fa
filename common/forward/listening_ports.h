#pragma once
// The TCP ports something listens on, read from /proc/net/tcp and
// /proc/net/tcp6 of a network namespace: what the guest agent reports so
// that the host can listen on the same ports in the pod's network
// namespace (port forwarding). Only sockets bound to a wildcard or a
// loopback address count: port forwarding dials "localhost:PORT", which
// reaches nothing bound to the pod's IP alone.

#include <cstdint>
#include <set>
#include <string_view>

namespace vmrt::forward {

// The listening ports in the text of a /proc/net/tcp or /proc/net/tcp6
// file. Lines that do not parse are skipped (the header, a truncated last
// line): the kernel's format, not input to refuse.
std::set<uint16_t> parse_listening_ports(std::string_view proc_net_tcp);

// Both files of the calling thread's network namespace; a file that does
// not exist (a kernel without IPv6) adds nothing.
std::set<uint16_t> listening_ports();

}  // namespace vmrt::forward
