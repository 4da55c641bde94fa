#include "vmm/devices/serial/console_output.h"

#include <unistd.h>

#include <cerrno>

namespace vmrt::vmm {

namespace {
constexpr size_t kFlushAt = 4096;
}

void ConsoleOutput::write(std::span<const uint8_t> bytes) {
  std::lock_guard lock(mu_);
  buf_.append(bytes.begin(), bytes.end());
  if (buf_.size() >= kFlushAt || (!bytes.empty() && bytes.back() == '\n')) flush_locked();
}

void ConsoleOutput::flush() {
  std::lock_guard lock(mu_);
  flush_locked();
}

bool ConsoleOutput::has_pending() const {
  std::lock_guard lock(mu_);
  return !buf_.empty();
}

void ConsoleOutput::flush_locked() {
  size_t done = 0;
  while (done < buf_.size()) {
    ssize_t n = ::write(fd_.get(), buf_.data() + done, buf_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // console gone: drop the output, the guest keeps running
    done += static_cast<size_t>(n);
  }
  buf_.clear();
}

}  // namespace vmrt::vmm
