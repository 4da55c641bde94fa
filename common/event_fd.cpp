#include "common/event_fd.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "common/error.h"

namespace vmrt {

UniqueFd make_eventfd(const std::string& what) {
  return UniqueFd(check_sys(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), "eventfd for " + what));
}

bool signal_eventfd(int fd) noexcept {
  uint64_t one = 1;
  return ::write(fd, &one, sizeof one) == sizeof one || errno == EAGAIN;
}

void drain_eventfd(int fd) noexcept {
  uint64_t count;
  [[maybe_unused]] ssize_t r = ::read(fd, &count, sizeof count);
}

}  // namespace vmrt
