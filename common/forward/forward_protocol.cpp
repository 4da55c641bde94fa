#include "common/forward/forward_protocol.h"

#include <fmt/format.h>

#include <charconv>

namespace vmrt::forward {
namespace {

// A decimal port 1..65535 without sign or leading zero.
std::optional<uint16_t> parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5 || text[0] == '0') return std::nullopt;
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value > 65535) return std::nullopt;
  return static_cast<uint16_t>(value);
}

}  // namespace

std::optional<Request> parse_request(std::string_view line) {
  if (line == "PORTS") return Request{Request::Kind::Ports, 0};
  constexpr std::string_view kForward = "FORWARD ";
  if (!line.starts_with(kForward)) return std::nullopt;
  auto port = parse_port(line.substr(kForward.size()));
  if (!port) return std::nullopt;
  return Request{Request::Kind::Forward, *port};
}

std::string forward_line(uint16_t port) { return fmt::format("FORWARD {}\n", port); }

std::string ports_line(const std::set<uint16_t>& ports) {
  std::string line = "PORTS";
  size_t n = 0;
  for (uint16_t p : ports) {
    if (n++ == kMaxPorts) break;
    line += fmt::format(" {}", p);
  }
  return line + "\n";
}

std::optional<std::set<uint16_t>> parse_ports(std::string_view line) {
  constexpr std::string_view kPorts = "PORTS";
  if (!line.starts_with(kPorts)) return std::nullopt;
  line.remove_prefix(kPorts.size());
  std::set<uint16_t> ports;
  while (!line.empty()) {
    if (line[0] != ' ') return std::nullopt;
    line.remove_prefix(1);
    size_t end = line.find(' ');
    auto port = parse_port(line.substr(0, end));
    if (!port || (!ports.empty() && *port <= *ports.rbegin()) || ports.size() == kMaxPorts)
      return std::nullopt;
    ports.insert(*port);
    line = end == std::string_view::npos ? std::string_view{} : line.substr(end);
  }
  return ports;
}

}  // namespace vmrt::forward
