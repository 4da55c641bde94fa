// The worker's host-to-guest half: control packets and stream data into the
// guest's receive queue (vsock_worker.cpp has the loop and the other half).

#include <limits.h>
#include <spdlog/spdlog.h>
#include <sys/uio.h>

#include <algorithm>

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

namespace {
// Linux posts 4 KiB receive buffers: a read of the host socket per buffer
// would cost a syscall per 4 KiB. One readv fills up to this many buffers
// (each still a packet with its own header), up to the credit.
constexpr size_t kBatchChains = 16;
}  // namespace

VsockWorker::DataResult VsockWorker::send_data(Connection& sender, virtio::DescriptorChain first) {
  virtio::Queue& q = ctx_.queues[kRx];
  const uint32_t id = rr_cursor_;  // next_sender() left it on the sender
  const size_t credit = std::min<size_t>(sender.peer_credit(), kMaxPayload);
  auto room_of = [](const virtio::DescriptorChain& c) {
    return std::min<size_t>(c.writable_len - kHeaderSize, kMaxPayload);
  };
  if (room_of(first) == 0 || credit == 0) {
    // A buffer with no room past the header cannot carry data; the stream
    // waits (only a broken driver posts such buffers).
    q.undo_pop();
    return DataResult::NoRoom;
  }
  std::vector<virtio::DescriptorChain> chains;
  std::vector<size_t> rooms;
  std::vector<iovec> iov;
  size_t total = 0;
  auto take = [&](virtio::DescriptorChain c) {
    size_t room = std::min(room_of(c), credit - total);
    auto v = virtio::segment_iovecs(c.writable, kHeaderSize, room);
    iov.insert(iov.end(), v.begin(), v.end());
    total += room;
    rooms.push_back(room);
    chains.push_back(std::move(c));
  };
  take(std::move(first));
  while (total < credit && chains.size() < kBatchChains) {
    auto next = q.pop();  // an empty ring only ends the batch
    if (!next) break;
    // A buffer without room for data, or one that would take readv past
    // IOV_MAX, is left for the next round (which refuses a broken one).
    if (next->writable_len <= kHeaderSize || iov.size() + next->writable.size() > IOV_MAX) {
      q.undo_pop();
      break;
    }
    take(std::move(*next));
  }
  // The chains popped last go back first; `from` on are returned unused.
  auto give_back = [&](size_t from) {
    for (size_t i = from; i < chains.size(); ++i) q.undo_pop();
  };
  ssize_t n = ::readv(sender.fd(), iov.data(), static_cast<int>(iov.size()));
  if (n < 0) {
    give_back(0);
    if (errno == EAGAIN || errno == EWOULDBLOCK)
      sender.host_readable = false;
    else if (errno != EINTR)
      close_connection(id, true);
    return DataResult::Retry;
  }
  std::vector<virtio::UsedElem> used;
  if (n == 0) {
    // The host side will send no more: a half close, so the guest can still
    // answer (the close of a fully closed socket shows up when the next
    // write to it fails).
    give_back(1);
    sender.host_eof = true;
    virtio_vsock_hdr h = make_header(guest_cid_, sender.local_port(), sender.peer_port(),
                                     VIRTIO_VSOCK_OP_SHUTDOWN, VIRTIO_VSOCK_SHUTDOWN_SEND);
    h.buf_alloc = Connection::kBufAlloc;
    h.fwd_cnt = sender.fwd_cnt();
    virtio::copy_to_segments(chains[0].writable, 0,
                             {reinterpret_cast<const uint8_t*>(&h), kHeaderSize});
    used.push_back({chains[0].head, static_cast<uint32_t>(kHeaderSize)});
  } else {
    // readv filled the buffers in order: each full one but the last.
    size_t left = static_cast<size_t>(n), k = 0;
    for (; k < chains.size() && left > 0; ++k) {
      auto len = static_cast<uint32_t>(std::min(rooms[k], left));
      left -= len;
      virtio_vsock_hdr h = make_header(guest_cid_, sender.local_port(), sender.peer_port(),
                                       VIRTIO_VSOCK_OP_RW, 0, len);
      sender.sent(len);
      h.buf_alloc = Connection::kBufAlloc;
      h.fwd_cnt = sender.fwd_cnt();
      virtio::copy_to_segments(chains[k].writable, 0,
                               {reinterpret_cast<const uint8_t*>(&h), kHeaderSize});
      used.push_back({chains[k].head, static_cast<uint32_t>(kHeaderSize + len)});
    }
    give_back(k);
  }
  sender.told_credit();
  q.add_used(used);
  return DataResult::Sent;
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
      switch (send_data(*sender, std::move(*chain))) {
        case DataResult::Sent:
          // At once rather than after the loop: the driver starts on these
          // while the next buffers fill (it suppresses what it does not need).
          if (q.needs_interrupt()) ctx_.interrupt.signal_used();
          used = false;
          continue;
        case DataResult::NoRoom:
          break;
        case DataResult::Retry:
          continue;
      }
      break;
    }
    virtio::copy_to_segments(chain->writable, 0,
                             {reinterpret_cast<const uint8_t*>(&h), kHeaderSize});
    q.add_used(chain->head, static_cast<uint32_t>(kHeaderSize + h.len));
    used = true;
  }
  if (used && q.needs_interrupt()) ctx_.interrupt.signal_used();
}

}  // namespace vmrt::vmm::vsock
