#include "vmm/devices/net/net_worker.h"

#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cstring>

#include "common/error.h"
#include "common/event_fd.h"
#include "vmm/devices/net/net_wire.h"
#include "vmm/devices/net/tx_frame.h"

namespace vmrt::vmm::net {

namespace {
constexpr size_t kRx = 0, kTx = 1;
// Frames per direction per wake-up.
constexpr int kBatch = 64;

bool has(uint64_t features, unsigned bit) { return features & (1ull << bit); }
}  // namespace

NetWorker::NetWorker(virtio::ActivateContext context, const TapFd& tap, NetCounters& counters)
    : ctx_(std::move(context)), tap_(tap), counters_(counters), features_(ctx_.features) {
  RxBuffers::Options options;
  options.mergeable = has(features_, VIRTIO_NET_F_MRG_RXBUF);
  options.header_from_tap = tap_.vnet_hdr;
  options.guest_csum = has(features_, VIRTIO_NET_F_GUEST_CSUM);
  rx_.emplace(ctx_.queues.at(kRx), options, counters_);
  loop_.add(ctx_.queue_events.at(kRx), EPOLLIN, [this](uint32_t) {
    drain_eventfd(ctx_.queue_events[kRx]);
    rx_waiting_ = false;
  });
  loop_.add(ctx_.queue_events.at(kTx), EPOLLIN,
            [this](uint32_t) { drain_eventfd(ctx_.queue_events[kTx]); });
  quiesce_.emplace(loop_, [this] {
    rx_->give_back();
    std::vector<virtio::QueuePositions> positions;
    for (const virtio::Queue& q : ctx_.queues) positions.push_back(q.positions());
    return positions;
  });
  // The driver may have posted buffers and frames before the thread existed,
  // so the queues are serviced before the first wait too.
  loop_.start([this] {
    bool more = service();
    watch_tap();
    return more ? 0 : -1;
  });
}

NetWorker::~NetWorker() { loop_.stop_and_join(); }

virtio::ActivateContext NetWorker::take_context() && {
  loop_.stop_and_join();
  return std::move(ctx_);
}

void NetWorker::needs_reset(const std::string& why) {
  needs_reset_ = true;
  ctx_.needs_reset(why);
}

void NetWorker::on_tap(uint32_t events) {
  if (events & EPOLLOUT) tx_blocked_ = false;
  // Without EPOLLIN there is nothing left to read: the peer is gone.
  if ((events & (EPOLLHUP | EPOLLERR)) && !(events & EPOLLIN)) {
    SPDLOG_WARN("virtio-net: tap {} hung up", tap_.name);
    tap_closed_ = true;
  }
}

// Level-triggered interest in the tap that follows what the loop can use,
// so an unread tap or a writable one never spins the loop.
void NetWorker::watch_tap() {
  uint32_t want = 0;
  if (!tap_closed_ && !needs_reset_) {
    if (!rx_waiting_) want |= EPOLLIN;
    if (tx_blocked_) want |= EPOLLOUT;
  }
  if (want == tap_events_) return;
  int fd = tap_.fd.get();
  try {
    if (want == 0)
      loop_.remove(fd);
    else if (tap_events_ == 0)
      loop_.add(fd, want, [this](uint32_t events) { on_tap(events); });
    else
      loop_.modify(fd, want);
  } catch (const Error& e) {
    SPDLOG_ERROR("virtio-net: tap {}: {}", tap_.name, e.what());
    tap_closed_ = true;
    return;
  }
  tap_events_ = want;
}

bool NetWorker::service() {
  if (needs_reset_) return false;
  try {
    bool more = process_tx();
    more |= process_rx();
    return more;
  } catch (const virtio::QueueError& e) {
    needs_reset(e.what());
    return false;
  }
}

// Sends one checked frame; false when the tap pushes back (EAGAIN).
bool NetWorker::send(const TxFrame& frame) {
  std::vector<iovec> iov;
  iov.reserve(frame.frame.size() + 1);
  if (tap_.vnet_hdr) iov.push_back({const_cast<virtio_net_hdr_v1*>(&frame.hdr), kHeaderSize});
  iov.insert(iov.end(), frame.frame.begin(), frame.frame.end());
  for (;;) {
    ssize_t r;
    if (tap_.is_socket) {
      msghdr msg{};
      msg.msg_iov = iov.data();
      msg.msg_iovlen = iov.size();
      r = sendmsg(tap_.fd.get(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    } else {
      r = writev(tap_.fd.get(), iov.data(), static_cast<int>(iov.size()));
    }
    if (r >= 0) {
      // Bytes before frames: whoever sees the frame counted sees its bytes.
      size_t header = tap_.vnet_hdr ? kHeaderSize : 0;
      counters_.tx_bytes += static_cast<size_t>(r) > header ? static_cast<size_t>(r) - header : 0;
      ++counters_.tx_frames;
      return true;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) return false;
    ++counters_.tx_errors;
    SPDLOG_DEBUG("virtio-net: tap {} refused a frame: {}", tap_.name, strerror(errno));
    return true;
  }
}

bool NetWorker::process_tx() {
  virtio::Queue& q = ctx_.queues[kTx];
  if (tx_blocked_) return false;
  bool used = false, more = false;
  for (int done = 0;; ++done) {
    if (done == kBatch) {
      more = true;
      break;
    }
    auto chain = q.pop_or_rearm();
    if (!chain) break;
    TxFrame frame = parse_tx_chain(*chain, features_);
    if (!frame.error.empty()) {
      ++counters_.tx_dropped;
      SPDLOG_DEBUG("virtio-net: dropped a guest frame: {}", frame.error);
    } else if (!send(frame)) {
      q.undo_pop();  // sent again once the tap is writable
      tx_blocked_ = true;
      break;
    }
    q.add_used(chain->head, 0);
    used = true;
  }
  if (used && q.needs_interrupt()) ctx_.interrupt.signal_used();
  return more;
}

bool NetWorker::process_rx() {
  if (tap_closed_ || rx_waiting_) return false;
  bool more = false;
  for (int done = 0;; ++done) {
    if (done == kBatch) {
      more = true;
      break;
    }
    if (rx_->pending()) {
      if (!rx_->resume()) {
        rx_waiting_ = true;
        break;
      }
      continue;
    }
    if (!rx_->refill()) {
      rx_waiting_ = true;
      break;
    }
    std::vector<iovec> iov = rx_->read_iovecs();
    ssize_t n = readv(tap_.fd.get(), iov.data(), static_cast<int>(iov.size()));
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      SPDLOG_WARN("virtio-net: reading tap {}: {}; receiving stops", tap_.name, strerror(errno));
      tap_closed_ = true;
      break;
    }
    if (n == 0) {
      SPDLOG_WARN("virtio-net: tap {} closed; receiving stops", tap_.name);
      tap_closed_ = true;
      break;
    }
    rx_->commit(static_cast<size_t>(n));
  }
  if (rx_->take_used() && ctx_.queues[kRx].needs_interrupt()) ctx_.interrupt.signal_used();
  return more;
}

}  // namespace vmrt::vmm::net
