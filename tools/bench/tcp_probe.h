#pragma once
// The host side of the network benchmarks (pod_network, vm_network.sh): a
// TCP client of an echo server and of a sink, on an IPv4 address.

#include <string>

#include "common/fd.h"

namespace vmrt::bench {

// Connects, retrying for up to 60 s while the server may still be starting.
UniqueFd connect_to(const std::string& ip, int port);

// Median round trip of `n` 1-byte messages to an echo server, in
// microseconds (Nagle off). Throws when the connection breaks off.
double rtt_us(const std::string& ip, int port, int n);

// MiB/s of `mib` MiB written to a sink, until it has read them all (it
// closes the connection at end of file).
double throughput_mibs(const std::string& ip, int port, int mib);

}  // namespace vmrt::bench
