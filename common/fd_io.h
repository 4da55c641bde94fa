#pragma once
// Whole-buffer reads and writes on file descriptors, retrying short transfers
// and EINTR, so protocol code reads as "read this header" rather than loops.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace vmrt {

// Writes all of `data`. On a socket, a vanished peer is an EPIPE error rather
// than a SIGPIPE that kills the process. Throws vmrt::Error.
void write_all(int fd, const void* data, size_t len);
// Adds O_NONBLOCK to the fd's status flags (keeping the others). Throws
// vmrt::Error.
void set_nonblocking(int fd);
void write_all(int fd, std::string_view data);

// Fills `buf` with exactly `len` bytes. Returns false when the stream ends
// before the first byte (the peer closed between messages); an end in the
// middle is an error, since a message was cut short. Throws vmrt::Error.
bool read_exact(int fd, void* buf, size_t len);

// Reads one '\n'-terminated line and returns it without the '\n'; nullopt
// when the stream ends before the first byte. Reads a byte at a time so that
// nothing after the newline is consumed: after a line-based handshake (the
// hybrid vsock "CONNECT <port>\n") the same fd carries another protocol.
// Throws vmrt::Error when the line exceeds `max` bytes or the stream ends
// mid-line.
std::optional<std::string> read_line(int fd, size_t max);

}  // namespace vmrt
