#pragma once
// A client of the CRI streaming server's port forwarding (the URL
// PortForward returns), over WebSocket as kubelet's streaming library
// serves it: an HTTP/1.1 Upgrade to GET <url>?port=<port> with the
// "v4.channel.k8s.io" subprotocol, then binary messages whose first byte
// is the channel: 0 carries the forwarded stream's data, 1 its errors.
// The server's first message on each channel is the port (2 bytes, little
// endian). One port per connection: what the tests need. The test client
// trusts its server: Sec-WebSocket-Accept is not checked.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/fd.h"

namespace vmrt::cri {

class PortForwardStream {
 public:
  // Connects to `url` (http://host:port/path) for `port`; throws
  // vmrt::Error naming what failed (connection, HTTP status).
  PortForwardStream(const std::string& url, uint16_t port,
                    std::chrono::milliseconds timeout = std::chrono::seconds(30));

  // Sends bytes to the forwarded port.
  void write(std::string_view data);
  // The next data the port sent, in order; nullopt once the stream ended
  // (the server closed it). Text on the error channel throws vmrt::Error
  // with it.
  std::optional<std::string> read();
  // Reads until `n` bytes came or the stream ended.
  std::string read_at_least(size_t n);

 private:
  // One whole message: its opcode and payload. Throws on a timeout.
  bool read_message(uint8_t& opcode, std::string& payload);
  void read_exactly(void* buf, size_t n);

  UniqueFd fd_;
  std::chrono::milliseconds timeout_;
  bool port_seen_[2] = {false, false};
  bool closed_ = false;  // the server closed the connection
};

// Parsing and framing, apart for unit tests.
namespace websocket {
// A client frame: FIN, `opcode`, masked with `mask`.
std::string client_frame(uint8_t opcode, std::string_view payload, uint32_t mask);
// The parts of an http:// URL; throws vmrt::Error for anything else.
struct Url {
  std::string host;
  uint16_t port = 80;
  std::string path;  // with its query, "/" at least
};
Url parse_url(const std::string& url);
}  // namespace websocket

}  // namespace vmrt::cri
