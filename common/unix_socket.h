#pragma once
// Unix stream sockets named by filesystem paths: the shim's ttrpc socket, the
// VMM's control and hybrid vsock sockets. Every fd is close-on-exec.

#include <filesystem>
#include <span>
#include <vector>

#include "common/fd.h"
#include "common/fd_io.h"

namespace vmrt {

// Binds and listens on `path`. A socket file left there by a dead process is
// replaced; a socket someone still listens on, or a file that is not a
// socket, is an error. Throws vmrt::Error naming the path.
UniqueFd listen_unix(const std::filesystem::path& path, int backlog = 128);

// Connects to the socket at `path`. Throws vmrt::Error naming the path.
UniqueFd connect_unix(const std::filesystem::path& path);
// As connect_unix, but the socket is non-blocking and a listener whose
// backlog is full fails with EAGAIN instead of blocking the caller (an event
// loop that must not stall). The Error's code() is the errno.
UniqueFd connect_unix_nonblocking(const std::filesystem::path& path);

// Accepts one connection (close-on-exec), retrying EINTR and the errors
// accept(2) says to treat like EAGAIN (a connection that died in the queue).
UniqueFd accept_unix(int listen_fd);

// Sends `len` bytes of `data` with descriptor `fd` attached (SCM_RIGHTS) in
// one message; returns sendmsg's result (retried on EINTR). Allocates
// nothing and throws nothing: usable in a forked child before exec.
ssize_t send_with_fd(int sock, const void* data, size_t len, int fd) noexcept;

// Receives one message of at most `len` bytes into `data`, taking the
// descriptor sent with it (close-on-exec) into `*fd` when there is one;
// returns the byte count (0 at end of file). Throws vmrt::Error on failure.
size_t receive_with_fd(int sock, void* data, size_t len, UniqueFd* fd);

// The most descriptors one message carries with the functions below.
inline constexpr size_t kMaxPassedFds = 32;

// As send_with_fd, with up to kMaxPassedFds descriptors (none is allowed);
// more fail with EINVAL.
ssize_t send_with_fds(int sock, const void* data, size_t len, std::span<const int> fds) noexcept;

// As receive_with_fd, taking every descriptor sent with the message into
// `fds` in order (replacing what it held). A message whose descriptors did
// not all fit is an error: the kernel closed the rest.
size_t receive_with_fds(int sock, void* data, size_t len, std::vector<UniqueFd>& fds);

}  // namespace vmrt
