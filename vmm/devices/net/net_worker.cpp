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
enum Tag : uint64_t { kStopTag = 1, kTapTag, kRxTag, kTxTag };

bool has(uint64_t features, unsigned bit) { return features & (1ull << bit); }
}  // namespace

NetWorker::NetWorker(virtio::ActivateContext context, const TapFd& tap, NetCounters& counters)
    : ctx_(std::move(context)), tap_(tap), counters_(counters), features_(ctx_.features) {
  RxBuffers::Options options;
  options.mergeable = has(features_, VIRTIO_NET_F_MRG_RXBUF);
  options.header_from_tap = tap_.vnet_hdr;
  options.guest_csum = has(features_, VIRTIO_NET_F_GUEST_CSUM);
  rx_.emplace(ctx_.queues.at(kRx), options, counters_);
  ep_ = UniqueFd(check_sys(epoll_create1(EPOLL_CLOEXEC), "epoll_create1"));
  stop_ = make_eventfd("stopping the virtio-net thread");
  for (auto [fd, tag] : {std::pair{stop_.get(), kStopTag},
                         {ctx_.queue_events.at(kRx), kRxTag},
                         {ctx_.queue_events.at(kTx), kTxTag}}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = tag;
    check_sys(epoll_ctl(ep_.get(), EPOLL_CTL_ADD, fd, &ev), "epoll_ctl");
  }
  thread_ = std::thread([this] { run(); });
}

NetWorker::~NetWorker() {
  signal_eventfd(stop_.get());
  if (thread_.joinable()) thread_.join();
}

void NetWorker::fail(const std::string& why) {
  failed_ = true;
  ctx_.fail(why);
}

void NetWorker::run() {
  // The driver may have posted buffers and frames before the thread existed.
  bool more = service();
  for (;;) {
    watch_tap();
    epoll_event events[8];
    int n = epoll_wait(ep_.get(), events, 8, more ? 0 : -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      SPDLOG_ERROR("virtio-net: epoll_wait: {}", strerror(errno));
      return;
    }
    for (int i = 0; i < n; ++i) {
      switch (events[i].data.u64) {
        case kStopTag:
          return;
        case kRxTag:
          drain_eventfd(ctx_.queue_events[kRx]);
          rx_waiting_ = false;
          break;
        case kTxTag:
          drain_eventfd(ctx_.queue_events[kTx]);
          break;
        case kTapTag:
          if (events[i].events & EPOLLOUT) tx_blocked_ = false;
          // Without EPOLLIN there is nothing left to read: the peer is gone.
          if ((events[i].events & (EPOLLHUP | EPOLLERR)) && !(events[i].events & EPOLLIN)) {
            SPDLOG_WARN("virtio-net: tap {} hung up", tap_.name);
            tap_closed_ = true;
          }
          break;
        default:
          break;
      }
    }
    more = service();
  }
}

// Level-triggered interest in the tap that follows what the loop can use,
// so an unread tap or a writable one never spins the loop.
void NetWorker::watch_tap() {
  uint32_t want = 0;
  if (!tap_closed_ && !failed_) {
    if (!rx_waiting_) want |= EPOLLIN;
    if (tx_blocked_) want |= EPOLLOUT;
  }
  if (want == tap_events_) return;
  epoll_event ev{};
  ev.events = want;
  ev.data.u64 = kTapTag;
  int op = want == 0 ? EPOLL_CTL_DEL : tap_events_ == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
  if (epoll_ctl(ep_.get(), op, tap_.fd.get(), &ev) != 0) {
    SPDLOG_ERROR("virtio-net: epoll_ctl on tap {}: {}", tap_.name, strerror(errno));
    tap_closed_ = true;
    return;
  }
  tap_events_ = want;
}

bool NetWorker::service() {
  if (failed_) return false;
  try {
    bool more = process_tx();
    more |= process_rx();
    return more;
  } catch (const virtio::QueueError& e) {
    fail(e.what());
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
    auto chain = q.pop();
    if (!chain) {
      if (q.enable_notification()) continue;
      break;
    }
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
