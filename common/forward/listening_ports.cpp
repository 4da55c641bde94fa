#include "common/forward/listening_ports.h"

#include <charconv>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace vmrt::forward {
namespace {

constexpr std::string_view kListen = "0A";  // TCP_LISTEN, in hex as the kernel writes it

std::vector<std::string_view> fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ') ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

// The address as the kernel prints it: 8 hex digits (IPv4, in network
// byte order read as a host-order word) or 32 (IPv6, four such words).
bool wildcard_or_loopback(std::string_view hex) {
  if (hex.find_first_not_of('0') == std::string_view::npos) return true;  // 0.0.0.0, ::
  if (hex.size() == 8) return hex.substr(6) == "7F";  // 127.x.x.x on little endian
  if (hex.size() == 32) {
    if (hex == "00000000000000000000000001000000") return true;  // ::1
    // ::ffff:127.x.x.x, an IPv4 loopback listener on an IPv6 socket.
    return hex.substr(0, 16) == "0000000000000000" && hex.substr(16, 8) == "FFFF0000" &&
           hex.substr(30) == "7F";
  }
  return false;
}

}  // namespace

std::set<uint16_t> parse_listening_ports(std::string_view text) {
  std::set<uint16_t> ports;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    // "  0: 0100007F:1F90 00000000:0000 0A ..."
    std::vector<std::string_view> f = fields(line);
    if (f.size() < 4 || f[3] != kListen) continue;
    std::string_view local = f[1];
    size_t colon = local.find(':');
    if (colon == std::string_view::npos || local.size() - colon - 1 != 4) continue;
    if (!wildcard_or_loopback(local.substr(0, colon))) continue;
    unsigned port = 0;
    std::string_view hex = local.substr(colon + 1);
    auto [end, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), port, 16);
    if (ec != std::errc{} || end != hex.data() + hex.size() || port == 0) continue;
    ports.insert(static_cast<uint16_t>(port));
  }
  return ports;
}

std::set<uint16_t> listening_ports() {
  std::set<uint16_t> ports;
  for (const char* file : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(file);
    if (!in) continue;
    std::stringstream text;
    text << in.rdbuf();
    ports.merge(parse_listening_ports(text.str()));
  }
  return ports;
}

}  // namespace vmrt::forward
