#include "vmm/devices/vsock/connection.h"

#include <sys/socket.h>

#include <cerrno>

namespace vmrt::vmm::vsock {

Connection::Connection(UniqueFd fd, uint32_t local_port, uint32_t peer_port, State s)
    : state(s), fd_(std::move(fd)), local_port_(local_port), peer_port_(peer_port) {}

bool Connection::push(std::span<const iovec> data) {
  size_t total = 0;
  for (const iovec& v : data) total += v.iov_len;
  size_t kept = pending_.size() - pending_off_;
  if (kept + total > kBufAlloc) return false;
  size_t written = 0;
  if (kept == 0 && total > 0) {
    msghdr msg{};
    msg.msg_iov = const_cast<iovec*>(data.data());
    msg.msg_iovlen = data.size();
    ssize_t n = ::sendmsg(fd_.get(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) written = static_cast<size_t>(n);
    // Errors other than "full" surface in the next flush(); keep the data.
  }
  fwd_cnt_ += static_cast<uint32_t>(written);
  if (written == total) return true;
  compact();
  size_t skip = written;
  for (const iovec& v : data) {
    auto* p = static_cast<const uint8_t*>(v.iov_base);
    if (skip >= v.iov_len) {
      skip -= v.iov_len;
      continue;
    }
    pending_.insert(pending_.end(), p + skip, p + v.iov_len);
    skip = 0;
  }
  return true;
}

bool Connection::flush() {
  while (has_pending()) {
    ssize_t n = ::send(fd_.get(), pending_.data() + pending_off_, pending_.size() - pending_off_,
                       MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return false;
      break;
    }
    pending_off_ += static_cast<size_t>(n);
    fwd_cnt_ += static_cast<uint32_t>(n);
  }
  compact();
  return true;
}

void Connection::compact() {
  // Once the written prefix is at least half of the buffer it goes, so the
  // buffer stays under twice the credit even when a slow host reader never
  // lets it drain completely (the kept data itself is at most kBufAlloc).
  if (pending_off_ == 0 || pending_off_ * 2 < pending_.size()) return;
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<ptrdiff_t>(pending_off_));
  pending_off_ = 0;
  if (pending_.empty() && pending_.capacity() > kBufAlloc) pending_.shrink_to_fit();
}

}  // namespace vmrt::vmm::vsock
