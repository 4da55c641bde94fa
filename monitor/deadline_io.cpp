#include "monitor/deadline_io.h"

#include <sys/socket.h>

#include <cerrno>

#include "common/error.h"

namespace vmrt::monitor {

void wait_for(int fd, short events, Clock::time_point deadline, const std::string& what) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) fail("{}: no answer in time", what);
    pollfd p{fd, events, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw_errno(what + ": poll");
    if (r > 0) return;
  }
}

void send_all(int fd, std::string_view bytes, Clock::time_point deadline, const std::string& what) {
  for (size_t done = 0; done < bytes.size();) {
    ssize_t n = ::send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      wait_for(fd, POLLOUT, deadline, what);
      continue;
    }
    if (n < 0) throw_errno(what + ": send");
    done += static_cast<size_t>(n);
  }
}

std::string receive_exact(int fd, size_t n, Clock::time_point deadline, const std::string& what) {
  std::string out(n, '\0');
  for (size_t done = 0; done < n;) {
    ssize_t r = ::recv(fd, out.data() + done, n - done, MSG_DONTWAIT);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno == EAGAIN) {
      wait_for(fd, POLLIN, deadline, what);
      continue;
    }
    if (r < 0) throw_errno(what + ": receive");
    if (r == 0) fail("{}: closed in the middle of an answer", what);
    done += static_cast<size_t>(r);
  }
  return out;
}

}  // namespace vmrt::monitor
