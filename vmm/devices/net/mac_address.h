#pragma once
// The guest's Ethernet address as the virtio-net configuration space gives
// it (VIRTIO_NET_F_MAC): parsed from "xx:xx:xx:xx:xx:xx" or made up.

#include <linux/if_ether.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vmrt::vmm::net {

using MacAddress = std::array<uint8_t, ETH_ALEN>;

// Six colon-separated hex octets. Refuses multicast addresses and all
// zeros: neither can be a station's own address.
std::optional<MacAddress> parse_mac(std::string_view text);
std::string format_mac(const MacAddress& mac);
// A random locally administered unicast address, for a VM given none.
MacAddress random_local_mac();

}  // namespace vmrt::vmm::net
