#pragma once
// The VMM's side of the hybrid vsock handshake on a non-blocking client
// socket: the "CONNECT <port>\n" line is consumed exactly (bytes after it
// already belong to the stream) once it is complete.

#include <cstdint>
#include <string>

namespace vmrt::vmm::vsock {

struct HandshakeResult {
  enum Status { Incomplete, Invalid, Connect } status = Incomplete;
  uint32_t port = 0;
  std::string error;  // for Invalid
};

HandshakeResult read_connect_line(int fd);

}  // namespace vmrt::vmm::vsock
