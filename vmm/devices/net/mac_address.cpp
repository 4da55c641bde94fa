#include "vmm/devices/net/mac_address.h"

#include <fmt/format.h>
#include <sys/random.h>

#include <algorithm>
#include <charconv>

#include "common/error.h"

namespace vmrt::vmm::net {

std::optional<MacAddress> parse_mac(std::string_view text) {
  // "xx:" five times and a final "xx".
  if (text.size() != 3 * ETH_ALEN - 1) return std::nullopt;
  MacAddress mac{};
  for (size_t i = 0; i < ETH_ALEN; ++i) {
    const char* p = text.data() + 3 * i;
    if (i + 1 < ETH_ALEN && p[2] != ':') return std::nullopt;
    auto [end, ec] = std::from_chars(p, p + 2, mac[i], 16);
    if (ec != std::errc{} || end != p + 2) return std::nullopt;
  }
  bool multicast = mac[0] & 0x01;
  bool zero = std::all_of(mac.begin(), mac.end(), [](uint8_t b) { return b == 0; });
  if (multicast || zero) return std::nullopt;
  return mac;
}

std::string format_mac(const MacAddress& m) {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m[0], m[1], m[2], m[3], m[4],
                     m[5]);
}

MacAddress random_local_mac() {
  MacAddress mac{};
  if (getrandom(mac.data(), mac.size(), 0) != static_cast<ssize_t>(mac.size()))
    throw_errno("getrandom for a MAC address");
  mac[0] = static_cast<uint8_t>((mac[0] & ~0x01) | 0x02);  // unicast, locally administered
  return mac;
}

}  // namespace vmrt::vmm::net
