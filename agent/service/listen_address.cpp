#include "agent/service/listen_address.h"

#include <charconv>

#include "common/error.h"

namespace vmrt::agent {

std::string ListenAddress::to_string() const {
  return kind == Kind::Vsock ? fmt::format("vsock:{}", port) : "unix:" + path.string();
}

ListenAddress parse_listen_address(const std::string& text) {
  ListenAddress a;
  if (text.starts_with("vsock:")) {
    std::string_view port = std::string_view(text).substr(6);
    uint32_t value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    // VMADDR_PORT_ANY (-1) is not a port one can be reached on.
    if (port.empty() || ec != std::errc() || end != port.data() + port.size() ||
        value == UINT32_MAX)
      fail("listen address \"{}\": the vsock port must be a number below 4294967295", text);
    a.kind = ListenAddress::Kind::Vsock;
    a.port = value;
    return a;
  }
  if (text.starts_with("unix:")) {
    a.kind = ListenAddress::Kind::Unix;
    a.path = text.substr(5);
    if (!a.path.is_absolute())
      fail("listen address \"{}\": the unix socket path must be absolute", text);
    return a;
  }
  fail("listen address \"{}\": expected vsock:PORT or unix:/PATH", text);
}

}  // namespace vmrt::agent
