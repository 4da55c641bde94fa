#pragma once
// Hybrid vsock, the host side of a VM's vsock device as a Unix socket
// (Firecracker's scheme): connect to the VM's socket, write
// "CONNECT <port>\n", read "OK <host_port>\n", then the socket is a stream
// to the guest listener on <port>. The VMM serves it; the shim, the CLI and
// the tests connect through connect_vsock().

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "common/fd.h"

namespace vmrt::hybrid_vsock {

std::string connect_line(uint32_t port);  // "CONNECT 1024\n"
std::string ok_line(uint32_t host_port);  // "OK 1073741824\n"
// The port of a "CONNECT <port>" line (without its '\n'), or nullopt when the
// line is anything else (extra spaces, signs, leading zeros are refused).
std::optional<uint32_t> parse_connect(std::string_view line);
std::optional<uint32_t> parse_ok(std::string_view line);

// Connects to guest `port` through the VM socket `vm_socket`. Throws
// vmrt::Error with a message that says which of these happened: no VMM
// socket, nobody listening on the guest port (refused or reset by the
// guest), no answer within `timeout`.
UniqueFd connect_vsock(const std::filesystem::path& vm_socket, uint32_t port,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace vmrt::hybrid_vsock
