#pragma once
// Copies bytes both ways between two connected stream sockets until both
// directions have ended: the bytes of a forwarded TCP connection between
// the host's relay and the guest's forwarder (port forwarding). Each
// direction has one bounded buffer, so a peer that sends faster than the
// other reads is held back by TCP or vsock flow control, never buffered
// without bound. An end of file on one side is passed on as a shutdown of
// writing on the other (half close), as a proxy must for request/response
// protocols that close their sending half first.

#include <cstddef>

namespace vmrt::forward {

// Per-direction buffer: the most either side can make us hold.
inline constexpr size_t kSpliceBuffer = 64 * 1024;

enum class SpliceEnd {
  Done,     // both directions reached end of file and were passed on
  Error,    // a read or write failed (a reset): the connection is over
  Stopped,  // `stop_fd` became readable
};

// Relays between `a` and `b` (made non-blocking here) until both
// directions ended, one failed, or `stop_fd` (when >= 0) is readable. The
// descriptors stay the caller's.
SpliceEnd splice_streams(int a, int b, int stop_fd, size_t buffer = kSpliceBuffer);

}  // namespace vmrt::forward
