#include "agent/network/network_config.h"

#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <algorithm>
#include <set>

#include "agent/service/request_error.h"

namespace vmrt::agent::network {
namespace {

constexpr auto kInvalid = Code::InvalidArgument;

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The kernel's own rules for a link name (dev_valid_name): it becomes a
// sysfs directory, so no '/', no whitespace, not "." or "..".
void check_link_name(const std::string& field, const std::string& name) {
  if (name.empty() || name.size() >= IFNAMSIZ)
    reject(kInvalid, "{} \"{}\": must be 1 to {} bytes", field, name, IFNAMSIZ - 1);
  if (name == "." || name == "..") reject(kInvalid, "{} \"{}\": not a link name", field, name);
  for (char c : name)
    if (c == '/' || c == ':' || c <= ' ' || c == 0x7f)
      reject(kInvalid, "{} \"{}\": holds '/', ':', whitespace or a control character", field, name);
  if (name == "lo") reject(kInvalid, "{}: \"lo\" is the loopback device, not a NIC", field);
}

uint8_t check_prefix(const std::string& field, const IpAddr& ip, uint32_t prefix_len) {
  uint32_t max = ip.family == AF_INET6 ? 128 : 32;
  if (prefix_len > max)
    reject(kInvalid, "{}: prefix_len {} is out of range for {} (0 to {})", field, prefix_len,
           ip.family == AF_INET6 ? "IPv6" : "IPv4", max);
  return static_cast<uint8_t>(prefix_len);
}

bool host_bits_set(const IpAddr& ip, uint8_t prefix_len) {
  for (size_t bit = prefix_len; bit < ip.size() * 8; ++bit)
    if (ip.bytes[bit / 8] & (0x80 >> (bit % 8))) return true;
  return false;
}

const char* family_name(int family) { return family == AF_INET6 ? "IPv6" : "IPv4"; }

bool is_unspecified(const IpAddr& ip) {
  return std::all_of(ip.bytes.begin(), ip.bytes.begin() + ip.size(),
                     [](uint8_t b) { return b == 0; });
}

bool is_multicast(const IpAddr& ip) {
  return ip.family == AF_INET6 ? ip.bytes[0] == 0xff : (ip.bytes[0] & 0xf0) == 0xe0;
}

// An address a host can have, or be routed through: not 0.0.0.0/:: nor a
// multicast group (the kernel would take some of them and fail late).
IpAddr parse_unicast(const std::string& field, const std::string& text) {
  IpAddr ip = parse_ip(field, text);
  if (is_unspecified(ip) || is_multicast(ip))
    reject(kInvalid, "{} {}: not a unicast address", field, ip.str());
  return ip;
}

Interface parse_interface(const std::string& field, const v1::NetworkInterface& in) {
  Interface out;
  out.name = in.name().empty() ? kDefaultInterfaceName : in.name();
  check_link_name(field + ".name", out.name);
  if (in.mac().empty()) reject(kInvalid, "{}.mac: required (the MAC of the VM's NIC)", field);
  out.mac = parse_mac(field + ".mac", in.mac());
  if (!in.current_mac().empty())
    out.current_mac = parse_mac(field + ".current_mac", in.current_mac());
  // 68 is IPv4's minimum (RFC 791); the NIC's driver enforces its maximum.
  if (in.mtu() != 0 && (in.mtu() < 68 || in.mtu() > 65535))
    reject(kInvalid, "{}.mtu {}: must be 68 to 65535 (or 0 to keep the NIC's)", field, in.mtu());
  out.mtu = in.mtu();
  if (in.addresses_size() > kMaxAddresses)
    reject(kInvalid, "{}.addresses: {} given, at most {}", field, in.addresses_size(),
           kMaxAddresses);
  std::set<std::pair<std::string, uint8_t>> seen;
  for (int i = 0; i < in.addresses_size(); ++i) {
    std::string f = fmt::format("{}.addresses[{}]", field, i);
    InterfaceAddress a;
    a.ip = parse_unicast(f + ".ip", in.addresses(i).ip());
    a.prefix_len = check_prefix(f, a.ip, in.addresses(i).prefix_len());
    if (!seen.insert({a.ip.str(), a.prefix_len}).second)
      reject(kInvalid, "{}: {}/{} is given twice", f, a.ip.str(), a.prefix_len);
    out.addresses.push_back(a);
  }
  return out;
}

Route parse_route(const std::string& field, const v1::Route& in,
                  const std::set<std::string>& devices) {
  Route out;
  if (!in.gateway().empty()) out.gateway = parse_unicast(field + ".gateway", in.gateway());
  if (!in.source().empty()) out.source = parse_unicast(field + ".source", in.source());
  if (!in.destination().empty()) {
    std::tie(out.destination, out.prefix_len) =
        parse_cidr(field + ".destination", in.destination());
    out.family = out.destination.family;
    if (host_bits_set(out.destination, out.prefix_len))
      reject(kInvalid, "{}.destination \"{}\": has bits set beyond the prefix length", field,
             in.destination());
  } else if (out.gateway.family || out.source.family) {
    out.family = out.gateway.family ? out.gateway.family : out.source.family;
    out.destination.family = out.family;
  } else {
    reject(kInvalid,
           "{}.destination: empty (a default route) needs a gateway or source to tell IPv4 from "
           "IPv6; or give 0.0.0.0/0 or ::/0",
           field);
  }
  for (const auto& [ip, what] : {std::pair{&out.gateway, "gateway"}, {&out.source, "source"}})
    if (ip->family && ip->family != out.family)
      reject(kInvalid, "{}.{} {}: {} for an {} destination", field, what, ip->str(),
             family_name(ip->family), family_name(out.family));

  out.device = in.device();
  if (out.device.empty() && !out.gateway.family)
    reject(kInvalid, "{}: needs a device or a gateway", field);
  if (!out.device.empty() && !devices.count(out.device))
    reject(kInvalid, "{}.device \"{}\": unknown device (not lo nor one of the interfaces)", field,
           out.device);
  // fe80::1 is on every link: the kernel needs to be told which (EINVAL).
  if (out.device.empty() && is_ipv6_link_local(out.gateway))
    reject(kInvalid, "{}.gateway {}: a link-local gateway needs a device", field,
           out.gateway.str());
  if (in.scope() > 255) reject(kInvalid, "{}.scope {}: must be 0 to 255", field, in.scope());
  out.scope = static_cast<uint8_t>(in.scope());
  if (out.scope == RT_SCOPE_UNIVERSE && !out.gateway.family) out.scope = RT_SCOPE_LINK;
  out.metric = in.metric();
  return out;
}

}  // namespace

bool is_ipv6_link_local(const IpAddr& ip) {
  return ip.family == AF_INET6 && ip.bytes[0] == 0xfe && (ip.bytes[1] & 0xc0) == 0x80;
}

std::string IpAddr::str() const {
  char text[INET6_ADDRSTRLEN] = "";
  if (family) ::inet_ntop(family, bytes.data(), text, sizeof text);
  return text;
}

std::string Interface::mac_str() const { return fmt::format("{:02x}", fmt::join(mac, ":")); }

std::string Route::str() const {
  std::string s = prefix_len == 0 ? std::string("default")
                                  : fmt::format("{}/{}", destination.str(), prefix_len);
  if (family == AF_INET6 && prefix_len == 0) s += " (IPv6)";
  if (gateway.family) s += " via " + gateway.str();
  if (!device.empty()) s += " dev " + device;
  if (source.family) s += " src " + source.str();
  if (metric) s += fmt::format(" metric {}", metric);
  return s;
}

std::array<uint8_t, 6> parse_mac(const std::string& field, const std::string& text) {
  std::array<uint8_t, 6> mac{};
  bool ok = text.size() == 17;
  for (size_t i = 0; ok && i < 6; ++i) {
    int hi = hex_digit(text[3 * i]), lo = hex_digit(text[3 * i + 1]);
    ok = hi >= 0 && lo >= 0 && (i == 5 || text[3 * i + 2] == ':');
    mac[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  if (!ok) reject(kInvalid, "{} \"{}\": not a MAC address like 02:00:0a:58:00:05", field, text);
  if (mac[0] & 1) reject(kInvalid, "{} {}: a multicast address, not a NIC's", field, text);
  return mac;
}

IpAddr parse_ip(const std::string& field, const std::string& text) {
  IpAddr ip;
  // inet_pton takes exactly dotted-quad IPv4 or RFC 4291 IPv6 text.
  if (::inet_pton(AF_INET, text.c_str(), ip.bytes.data()) == 1) {
    ip.family = AF_INET;
  } else if (::inet_pton(AF_INET6, text.c_str(), ip.bytes.data()) == 1) {
    ip.family = AF_INET6;
  } else {
    reject(kInvalid, "{} \"{}\": not an IPv4 or IPv6 address", field, text);
  }
  return ip;
}

std::pair<IpAddr, uint8_t> parse_cidr(const std::string& field, const std::string& text) {
  size_t slash = text.find('/');
  IpAddr ip = parse_ip(field, text.substr(0, slash));
  if (slash == std::string::npos) return {ip, static_cast<uint8_t>(ip.size() * 8)};
  std::string len = text.substr(slash + 1);
  if (len.empty() || len.size() > 3 || !std::all_of(len.begin(), len.end(), ::isdigit))
    reject(kInvalid, "{} \"{}\": the prefix length must be a number", field, text);
  return {ip, check_prefix(field + " \"" + text + "\"", ip, std::stoul(len))};
}

NetworkConfig parse_network(const v1::CreateSandboxRequest& request) {
  NetworkConfig config;
  if (request.interfaces_size() > kMaxInterfaces)
    reject(kInvalid, "interfaces: {} given, at most {}", request.interfaces_size(), kMaxInterfaces);
  if (request.routes_size() > kMaxRoutes)
    reject(kInvalid, "routes: {} given, at most {}", request.routes_size(), kMaxRoutes);
  std::set<std::string> devices = {"lo"};
  std::set<std::array<uint8_t, 6>> macs;
  for (int i = 0; i < request.interfaces_size(); ++i) {
    std::string field = fmt::format("interfaces[{}]", i);
    Interface itf = parse_interface(field, request.interfaces(i));
    if (!devices.insert(itf.name).second)
      reject(kInvalid, "{}.name \"{}\": given to two interfaces", field, itf.name);
    if (!macs.insert(itf.mac).second)
      reject(kInvalid, "{}.mac {}: given to two interfaces", field, itf.mac_str());
    config.interfaces.push_back(std::move(itf));
  }
  for (int i = 0; i < request.routes_size(); ++i)
    config.routes.push_back(parse_route(fmt::format("routes[{}]", i), request.routes(i), devices));
  // A gateway must be reachable when its route is added: on-link routes first.
  std::stable_partition(config.routes.begin(), config.routes.end(),
                        [](const Route& r) { return !r.gateway.family; });
  return config;
}

}  // namespace vmrt::agent::network
