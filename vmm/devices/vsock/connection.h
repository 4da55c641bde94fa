#pragma once
// One vsock stream between a guest port and a host Unix socket, with the
// credit-based flow control of virtio-vsock (virtio 1.x, 5.10.6.3): each side
// advertises a receive buffer (buf_alloc) and how much of it it has consumed
// (fwd_cnt); a sender never has more than buf_alloc bytes in flight.
//
// Guest data the host socket does not take at once is kept here, at most our
// buf_alloc of it, which is exactly the credit the guest was given: a guest
// that sends more has broken the protocol and the stream is reset.

#include <sys/uio.h>

#include <chrono>
#include <cstdint>
#include <span>
#include <vector>

#include "common/fd.h"

namespace vmrt::vmm::vsock {

class Connection {
 public:
  enum class State {
    Connecting,   // host-initiated: REQUEST sent, waiting for the guest
    Established,  // data flows
    Closing,      // the guest closed; flushing what it sent before the RST
  };
  // Our receive buffer per stream, and when to tell the guest about
  // consumed credit unasked.
  static constexpr uint32_t kBufAlloc = 256 * 1024;
  static constexpr uint32_t kCreditUpdateThreshold = 64 * 1024;

  Connection(UniqueFd fd, uint32_t local_port, uint32_t peer_port, State state);

  int fd() const noexcept { return fd_.get(); }
  uint32_t local_port() const noexcept { return local_port_; }
  uint32_t peer_port() const noexcept { return peer_port_; }
  State state = State::Established;
  std::chrono::steady_clock::time_point since = std::chrono::steady_clock::now();

  // --- guest to host ---
  // Writes `data` to the host socket, keeping what does not fit now.
  // Returns false when the guest exceeded its credit.
  bool push(std::span<const iovec> data);
  // Writes kept data. Returns false when the host socket failed (closed).
  bool flush();
  bool has_pending() const noexcept { return pending_off_ < pending_.size(); }
  // Bytes kept, and the memory holding them (at most 4 * kBufAlloc: the
  // buffer stays under 2 * kBufAlloc, its capacity under twice that).
  size_t pending_bytes() const noexcept { return pending_.size() - pending_off_; }
  size_t pending_capacity() const noexcept { return pending_.capacity(); }
  uint32_t fwd_cnt() const noexcept { return fwd_cnt_; }
  // Whether the guest should hear about credit freed since it was last told.
  bool credit_update_due() const noexcept {
    return fwd_cnt_ - told_fwd_cnt_ >= kCreditUpdateThreshold;
  }
  void told_credit() noexcept { told_fwd_cnt_ = fwd_cnt_; }

  // --- host to guest ---
  void update_peer_credit(uint32_t buf_alloc, uint32_t fwd_cnt) noexcept {
    peer_buf_alloc_ = buf_alloc;
    peer_fwd_cnt_ = fwd_cnt;
  }
  // Bytes the guest can take now.
  uint32_t peer_credit() const noexcept {
    uint32_t in_flight = tx_cnt_ - peer_fwd_cnt_;
    return in_flight >= peer_buf_alloc_ ? 0 : peer_buf_alloc_ - in_flight;
  }
  void sent(uint32_t n) noexcept { tx_cnt_ += n; }

  // Readiness of the host socket as last reported by epoll (edge-triggered).
  bool host_readable = false;
  bool host_eof = false;         // the host side will send no more
  bool guest_shut_send = false;  // the guest will send no more
  bool guest_shut_recv = false;  // the guest will receive no more
  bool shut_wr_done = false;     // shutdown(SHUT_WR) passed on to the host
  bool credit_update_queued = false;

 private:
  void compact();

  UniqueFd fd_;
  uint32_t local_port_;
  uint32_t peer_port_;
  std::vector<uint8_t> pending_;
  size_t pending_off_ = 0;
  uint32_t fwd_cnt_ = 0;
  uint32_t told_fwd_cnt_ = 0;
  uint32_t peer_buf_alloc_ = 0;
  uint32_t peer_fwd_cnt_ = 0;
  uint32_t tx_cnt_ = 0;
};

}  // namespace vmrt::vmm::vsock
