#pragma once
// What the tests of a running vmrt-vmm share: reading its files under /proc
// and the logs it writes, and asking its control socket.

#include <filesystem>
#include <string>

namespace vmrt::vmm::test {

// The whole file; "" when it cannot be read.
std::string slurp(const std::filesystem::path& path);

// Writes a vmlinux-like ELF (no PVH note: entered in 64-bit mode) that
// prints "ready" on the serial console and halts, to `path`.
void write_ready_payload(const std::filesystem::path& path);

// Sends one control request line on `socket` and returns the reply line.
std::string control(const std::filesystem::path& socket, const std::string& request);

}  // namespace vmrt::vmm::test
