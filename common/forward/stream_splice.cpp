#include "common/forward/stream_splice.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "common/fd_io.h"

namespace vmrt::forward {
namespace {

// One direction: what was read from `from` and not yet written to `to`.
struct Direction {
  int from, to;
  std::vector<char> buf;
  size_t start = 0, end = 0;  // the pending bytes: buf[start, end)
  bool eof = false;           // `from` ended
  bool closed = false;        // and `to` was shut down for writing after the last byte

  bool pending() const { return end > start; }
  bool can_read() const { return !eof && end < buf.size(); }

  // Reads what fits; false on a failure.
  bool fill() {
    ssize_t n = ::recv(from, buf.data() + end, buf.size() - end, 0);
    if (n > 0) {
      end += static_cast<size_t>(n);
      return true;
    }
    if (n == 0) {
      eof = true;
      return true;
    }
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
  }

  // Writes what it can; false on a failure.
  bool drain() {
    while (pending()) {
      ssize_t n = ::send(to, buf.data() + start, end - start, MSG_NOSIGNAL);
      if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
      start += static_cast<size_t>(n);
    }
    start = end = 0;  // all written: the whole buffer is free again
    return true;
  }

  // Passes the end of file on once everything before it was written.
  void close_if_done() {
    if (eof && !pending() && !closed) {
      ::shutdown(to, SHUT_WR);
      closed = true;
    }
  }
};

}  // namespace

SpliceEnd splice_streams(int a, int b, int stop_fd, size_t buffer) {
  set_nonblocking(a);
  set_nonblocking(b);
  Direction dirs[2] = {{a, b, std::vector<char>(buffer)}, {b, a, std::vector<char>(buffer)}};
  for (;;) {
    for (Direction& d : dirs) d.close_if_done();
    if (dirs[0].closed && dirs[1].closed) return SpliceEnd::Done;
    // Each socket is read when its direction has room, written when the
    // other direction has bytes for it.
    pollfd p[3] = {{a, 0, 0}, {b, 0, 0}, {stop_fd, POLLIN, 0}};
    if (dirs[0].can_read()) p[0].events |= POLLIN;
    if (dirs[1].pending()) p[0].events |= POLLOUT;
    if (dirs[1].can_read()) p[1].events |= POLLIN;
    if (dirs[0].pending()) p[1].events |= POLLOUT;
    // A socket we want nothing of is left out: its lasting POLLHUP would
    // otherwise wake every poll while the other direction still runs.
    for (int i = 0; i < 2; ++i)
      if (p[i].events == 0) p[i].fd = -1;
    int n = ::poll(p, stop_fd >= 0 ? 3 : 2, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return SpliceEnd::Error;
    }
    if (stop_fd >= 0 && (p[2].revents & POLLIN)) return SpliceEnd::Stopped;
    for (int i = 0; i < 2; ++i) {
      Direction& d = dirs[i];
      short in = p[i].revents, out = p[1 - i].revents;
      // POLLHUP/POLLERR without POLLIN: the read finds the end or the error.
      if (d.can_read() && (in & (POLLIN | POLLHUP | POLLERR)) && !d.fill()) return SpliceEnd::Error;
      if (d.pending() && (out & (POLLOUT | POLLERR)) && !d.drain()) return SpliceEnd::Error;
      // A peer that hung up entirely can no longer take our bytes.
      if (d.pending() && (out & POLLHUP) && !(out & POLLOUT)) return SpliceEnd::Error;
    }
  }
}

}  // namespace vmrt::forward
