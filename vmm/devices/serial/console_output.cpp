#include "vmm/devices/serial/console_output.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace vmrt::vmm {

namespace {
constexpr size_t kFlushAt = 4096;
}

ConsoleOutput::ConsoleOutput(UniqueFd fd, uint64_t limit)
    : fd_(std::move(fd)), limit_(std::max<uint64_t>(limit, kCutMarker.size())) {}

void ConsoleOutput::write(std::span<const uint8_t> bytes) {
  std::lock_guard lock(mu_);
  if (cut_) return;
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
  std::string_view out = buf_;
  // The marker fits within the limit, so the output ends with it exactly.
  uint64_t room = limit_ - kCutMarker.size() - std::min(written_, limit_ - kCutMarker.size());
  if (!cut_ && out.size() > room) {
    write_out(out.substr(0, room));
    write_out(kCutMarker);
    cut_ = true;
  } else if (!cut_) {
    write_out(out);
  }
  buf_.clear();
}

void ConsoleOutput::write_out(std::string_view bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd_.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // console gone: drop the output, the guest keeps running
    done += static_cast<size_t>(n);
  }
  written_ += done;
}

}  // namespace vmrt::vmm
