// The worker's host-to-guest half: control packets and stream data into the
// guest's receive queue (vsock_worker.cpp has the loop and the other half).

#include <spdlog/spdlog.h>
#include <sys/uio.h>

#include "vmm/devices/vsock/vsock_worker.h"
#include "vmm/virtio/chain_io.h"

namespace vmrt::vmm::vsock {

void VsockWorker::queue_control(uint32_t local_port, uint32_t peer_port, uint16_t op,
                                uint32_t flags) {
  // Only resets are dropped: the peer of a reset stream learns of it from
  // its next packet anyway, while the other ops are bounded by the streams.
  if (op == VIRTIO_VSOCK_OP_RST && control_full()) {
    ++counters_.control_dropped;
    return;
  }
  if (op == VIRTIO_VSOCK_OP_RST) ++counters_.resets_sent;
  control_.push_back({local_port, peer_port, op, flags});
  if (control_.size() > counters_.control_peak) counters_.control_peak = control_.size();
}

void VsockWorker::queue_credit_update(Connection& c) {
  if (c.credit_update_queued) return;
  c.credit_update_queued = true;
  queue_control(c.local_port(), c.peer_port(), VIRTIO_VSOCK_OP_CREDIT_UPDATE);
}

Connection* VsockWorker::next_sender() {
  if (conns_.empty()) return nullptr;
  // Round robin from the stream after the last one served, so one busy
  // stream cannot starve the others.
  auto start = conns_.upper_bound(rr_cursor_);
  for (int pass = 0; pass < 2; ++pass) {
    auto begin = pass == 0 ? start : conns_.begin();
    auto end = pass == 0 ? conns_.end() : start;
    for (auto it = begin; it != end; ++it) {
      Connection& c = *it->second;
      if (c.state == Connection::State::Established && c.host_readable && !c.host_eof &&
          !c.guest_shut_recv && c.peer_credit() > 0) {
        rr_cursor_ = it->first;
        return &c;
      }
    }
  }
  return nullptr;
}

void VsockWorker::process_rx() {
  if (needs_reset_) return;
  virtio::Queue& q = ctx_.queues[kRx];
  if (!q.ready()) return;
  bool used = false;
  for (;;) {
    Connection* sender = control_.empty() ? next_sender() : nullptr;
    if (control_.empty() && !sender) break;
    auto chain = q.pop_or_rearm();
    if (!chain) break;  // wait for the driver to post receive buffers
    if (chain->writable_len < kHeaderSize) {
      q.add_used(chain->head, 0);
      used = true;
      needs_reset(
          fmt::format("receive buffer of {} bytes cannot hold a header", chain->writable_len));
      break;
    }
    virtio_vsock_hdr h;
    if (!control_.empty()) {
      Control c = control_.front();
      control_.pop_front();
      h = make_header(guest_cid_, c.local_port, c.peer_port, c.op, c.flags);
      h.buf_alloc = Connection::kBufAlloc;
      if (Connection* conn = find(c.local_port, c.peer_port)) {
        h.fwd_cnt = conn->fwd_cnt();
        conn->told_credit();
        if (c.op == VIRTIO_VSOCK_OP_CREDIT_UPDATE) conn->credit_update_queued = false;
      }
    } else {
      size_t room =
          std::min<size_t>({chain->writable_len - kHeaderSize, sender->peer_credit(), kMaxPayload});
      if (room == 0) {
        // A buffer with no room past the header cannot carry data; the
        // stream waits (only a broken driver posts such buffers).
        q.undo_pop();
        break;
      }
      auto iov = virtio::segment_iovecs(chain->writable, kHeaderSize, room);
      ssize_t n = ::readv(sender->fd(), iov.data(), static_cast<int>(iov.size()));
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        if (errno != EINTR) sender->host_readable = false;
        q.undo_pop();
        continue;
      }
      uint32_t id = rr_cursor_;  // next_sender() left it on the sender
      if (n < 0) {
        q.undo_pop();
        close_connection(id, true);
        continue;
      }
      if (n == 0) {
        // The host side will send no more: a half close, so the guest can
        // still answer (the close of a fully closed socket shows up when the
        // next write to it fails).
        sender->host_eof = true;
        h = make_header(guest_cid_, sender->local_port(), sender->peer_port(),
                        VIRTIO_VSOCK_OP_SHUTDOWN, VIRTIO_VSOCK_SHUTDOWN_SEND);
      } else {
        h = make_header(guest_cid_, sender->local_port(), sender->peer_port(), VIRTIO_VSOCK_OP_RW,
                        0, static_cast<uint32_t>(n));
        sender->sent(static_cast<uint32_t>(n));
      }
      h.buf_alloc = Connection::kBufAlloc;
      h.fwd_cnt = sender->fwd_cnt();
      sender->told_credit();
    }
    virtio::copy_to_segments(chain->writable, 0,
                             {reinterpret_cast<const uint8_t*>(&h), kHeaderSize});
    q.add_used(chain->head, static_cast<uint32_t>(kHeaderSize + h.len));
    used = true;
  }
  if (used && q.needs_interrupt()) ctx_.interrupt.signal_used();
}

}  // namespace vmrt::vmm::vsock
