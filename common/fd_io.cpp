#include "common/fd_io.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "common/error.h"

namespace vmrt {

namespace {

// One read, retried on EINTR; 0 means end of stream.
size_t read_some(int fd, void* buf, size_t len) {
  for (;;) {
    ssize_t n = ::read(fd, buf, len);
    if (n >= 0) return static_cast<size_t>(n);
    if (errno != EINTR) throw_errno(fmt::format("read from fd {}", fd));
  }
}

}  // namespace

void write_all(int fd, const void* data, size_t len) {
  const char* p = static_cast<const char*>(data);
  bool socket = true;
  while (len > 0) {
    // send(MSG_NOSIGNAL) turns a closed peer into EPIPE; fds that are not
    // sockets (pipes, files) fall back to write.
    ssize_t n = socket ? ::send(fd, p, len, MSG_NOSIGNAL) : ::write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOTSOCK && socket) {
        socket = false;
        continue;
      }
      throw_errno(fmt::format("write to fd {}", fd));
    }
    p += n;
    len -= static_cast<size_t>(n);
  }
}

void set_nonblocking(int fd) {
  int flags = check_sys(::fcntl(fd, F_GETFL), "fcntl(F_GETFL)");
  check_sys(::fcntl(fd, F_SETFL, flags | O_NONBLOCK), "fcntl(F_SETFL, O_NONBLOCK)");
}

void write_all(int fd, std::string_view data) { write_all(fd, data.data(), data.size()); }

bool read_exact(int fd, void* buf, size_t len) {
  char* p = static_cast<char*>(buf);
  size_t done = 0;
  while (done < len) {
    size_t n = read_some(fd, p + done, len - done);
    if (n == 0) {
      if (done == 0) return false;
      fail("read from fd {}: stream ended after {} of {} bytes", fd, done, len);
    }
    done += n;
  }
  return true;
}

std::optional<std::string> read_line(int fd, size_t max) {
  std::string line;
  for (;;) {
    char c;
    if (read_some(fd, &c, 1) == 0) {
      if (line.empty()) return std::nullopt;
      fail("read from fd {}: stream ended in the middle of a line", fd);
    }
    if (c == '\n') return line;
    if (line.size() == max) fail("read from fd {}: line longer than {} bytes", fd, max);
    line.push_back(c);
  }
}

}  // namespace vmrt
