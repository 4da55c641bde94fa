#include "vmm/devices/vsock/vsock_worker.h"

#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>

#include <cstring>

#include "common/error.h"
#include "common/event_fd.h"
#include "common/fd_io.h"
#include "common/hybrid_vsock.h"
#include "common/unix_socket.h"
#include "vmm/devices/vsock/hybrid_handshake.h"
#include "vmm/virtio/chain_io.h"

namespace vmrt::vmm::vsock {

namespace {

// A client that has not finished its CONNECT line, or a guest that has not
// answered a connection request, is dropped after this long.
constexpr auto kHandshakeTimeout = std::chrono::seconds(5);
constexpr auto kConnectTimeout = std::chrono::seconds(10);
}  // namespace

size_t VsockWorker::open_streams() const { return conns_.size() + handshakes_.size(); }

VsockWorker::VsockWorker(virtio::ActivateContext context, uint64_t guest_cid, std::string uds_path,
                         int listener, VsockCounters& counters)
    : ctx_(std::move(context)),
      guest_cid_(guest_cid),
      uds_path_(std::move(uds_path)),
      listener_(listener),
      counters_(counters) {
  timer_ = UniqueFd(
      check_sys(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK), "timerfd_create"));
  itimerspec every_second{{1, 0}, {1, 0}};
  check_sys(timerfd_settime(timer_.get(), 0, &every_second, nullptr), "timerfd_settime");
  for (size_t q : {kTx, kRx, kEvent}) {
    // The event queue only carries TRANSPORT_RESET, which this device never
    // sends (a snapshot has no open stream to reset); the driver's buffers
    // simply wait there.
    int fd = ctx_.queue_events.at(q);
    on(fd, EPOLLIN, [fd](uint32_t) { drain_eventfd(fd); });
  }
  on(listener_, EPOLLIN, [this](uint32_t) { accept_clients(); });
  on(timer_.get(), EPOLLIN, [this](uint32_t) {
    drain_eventfd(timer_.get());
    sweep();
  });
  quiesce_.emplace(loop_, [this] {
    if (size_t n = open_streams()) fail("virtio-vsock: {} streams open", n);
    if (!control_.empty())
      fail("virtio-vsock: {} control packets wait for receive buffers", control_.size());
    // No chain is ever held between two runs of the loop.
    std::vector<virtio::QueuePositions> positions;
    for (const virtio::Queue& q : ctx_.queues) positions.push_back(q.positions());
    return positions;
  });
  // Before every wait, the first included: the driver may have queued
  // packets before the thread existed.
  loop_.start([this] {
    service_queues();
    return -1;
  });
}

VsockWorker::~VsockWorker() { loop_.stop_and_join(); }

virtio::ActivateContext VsockWorker::take_context() && {
  loop_.stop_and_join();
  return std::move(ctx_);
}

void VsockWorker::on(int fd, uint32_t events, std::function<void(uint32_t)> handler) {
  loop_.add(fd, events, [this, handler = std::move(handler)](uint32_t ev) {
    try {
      handler(ev);
    } catch (const virtio::QueueError& e) {
      needs_reset(e.what());
    } catch (const std::exception& e) {
      SPDLOG_ERROR("vsock: {}", e.what());
    }
  });
}

void VsockWorker::needs_reset(const std::string& why) {
  needs_reset_ = true;
  ctx_.needs_reset(why);
}

void VsockWorker::service_queues() {
  try {
    process_tx();
    process_rx();
  } catch (const virtio::QueueError& e) {
    needs_reset(e.what());
  }
}

// --- guest to host ---

void VsockWorker::process_tx() {
  if (needs_reset_) return;
  virtio::Queue& q = ctx_.queues[kTx];
  if (!q.ready()) return;
  bool used = false;
  while (auto chain = q.pop_or_rearm()) {
    TxHeader h = read_tx_header(*chain, guest_cid_);
    if (!h.error.empty()) {
      warn_limit_.warn("vsock: dropped a guest packet: {}", h.error);
      if (chain->readable_len >= kHeaderSize && h.hdr.op != VIRTIO_VSOCK_OP_RST)
        queue_control(h.hdr.dst_port, h.hdr.src_port, VIRTIO_VSOCK_OP_RST);
    } else {
      handle_packet(h.hdr, *chain);
    }
    q.add_used(chain->head, 0);
    used = true;
  }
  if (used && q.needs_interrupt()) ctx_.interrupt.signal_used();
}

void VsockWorker::handle_packet(const virtio_vsock_hdr& h, const virtio::DescriptorChain& chain) {
  uint32_t id = 0;
  Connection* conn = find(h.dst_port, h.src_port, &id);
  if (h.type != VIRTIO_VSOCK_TYPE_STREAM) {
    if (h.op != VIRTIO_VSOCK_OP_RST) queue_control(h.dst_port, h.src_port, VIRTIO_VSOCK_OP_RST);
    return;
  }
  if (conn) conn->update_peer_credit(h.buf_alloc, h.fwd_cnt);
  SPDLOG_TRACE("vsock: guest {} {}:{} len={}", op_name(h.op), h.src_port, h.dst_port, h.len);
  auto reset = [&] { queue_control(h.dst_port, h.src_port, VIRTIO_VSOCK_OP_RST); };
  switch (h.op) {
    case VIRTIO_VSOCK_OP_REQUEST:
      if (conn) {
        close_connection(id, true);  // a second request on a live stream
        return;
      }
      connect_to_host(h);
      return;
    case VIRTIO_VSOCK_OP_RESPONSE:
      if (!conn || conn->state != Connection::State::Connecting) return reset();
      conn->state = Connection::State::Established;
      conn->host_readable = true;  // the client may have written already
      try {
        write_all(conn->fd(), hybrid_vsock::ok_line(conn->local_port()));
      } catch (const Error&) {
        close_connection(id, true);  // the client went away meanwhile
      }
      return;
    case VIRTIO_VSOCK_OP_RW: {
      if (!conn || conn->state != Connection::State::Established || conn->guest_shut_send)
        return reset();
      auto iov = virtio::segment_iovecs(chain.readable, kHeaderSize, h.len);
      if (!conn->push(iov)) {
        ++counters_.credit_overruns;
        warn_limit_.warn("vsock: guest port {} sent past its credit; resetting the stream",
                         h.src_port);
        close_connection(id, true);
        return;
      }
      if (conn->credit_update_due()) queue_credit_update(*conn);
      return;
    }
    case VIRTIO_VSOCK_OP_CREDIT_UPDATE:
      if (!conn) reset();
      return;  // the new credit is applied above; process_rx uses it
    case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
      if (!conn) return reset();
      queue_credit_update(*conn);
      return;
    case VIRTIO_VSOCK_OP_SHUTDOWN:
      if (!conn) return reset();
      if (h.flags & VIRTIO_VSOCK_SHUTDOWN_RCV) conn->guest_shut_recv = true;
      if (h.flags & VIRTIO_VSOCK_SHUTDOWN_SEND) conn->guest_shut_send = true;
      if (conn->guest_shut_recv && conn->guest_shut_send) conn->state = Connection::State::Closing;
      after_flush(id);
      return;
    case VIRTIO_VSOCK_OP_RST:
      ++counters_.resets_received;
      if (conn) close_connection(id, false);
      return;
    default:
      warn_limit_.warn("vsock: unknown op {} from guest port {}", h.op, h.src_port);
      reset();
  }
}

void VsockWorker::connect_to_host(const virtio_vsock_hdr& h) {
  if (control_full()) {
    // Its RESPONSE could not be queued: refused (the reset is dropped too).
    ++counters_.connects_refused;
    queue_control(h.dst_port, h.src_port, VIRTIO_VSOCK_OP_RST);
    return;
  }
  if (open_streams() >= kMaxStreams) {
    ++counters_.streams_refused;
    SPDLOG_DEBUG("vsock: guest port {} -> host port {}: {} streams open already", h.src_port,
                 h.dst_port, kMaxStreams);
    queue_control(h.dst_port, h.src_port, VIRTIO_VSOCK_OP_RST);
    return;
  }
  std::string path = uds_path_ + "_" + std::to_string(h.dst_port);
  UniqueFd fd;
  try {
    fd = connect_unix_nonblocking(path);
  } catch (const Error& e) {
    SPDLOG_DEBUG("vsock: guest port {} -> host port {}: {}", h.src_port, h.dst_port, e.what());
    queue_control(h.dst_port, h.src_port, VIRTIO_VSOCK_OP_RST);
    return;
  }
  auto conn = std::make_unique<Connection>(std::move(fd), h.dst_port, h.src_port,
                                           Connection::State::Established);
  conn->update_peer_credit(h.buf_alloc, h.fwd_cnt);
  add_connection(std::move(conn));
  queue_control(h.dst_port, h.src_port, VIRTIO_VSOCK_OP_RESPONSE);
}

// What may happen once kept guest data is written out: credit to return,
// a half-close or close the guest asked for.
void VsockWorker::after_flush(uint32_t id) {
  Connection& c = *conns_.at(id);
  if (c.has_pending()) return;
  if (c.credit_update_due()) queue_credit_update(c);
  if (c.state == Connection::State::Closing) {
    close_connection(id, true);
    return;
  }
  if (c.guest_shut_send && !c.shut_wr_done) {
    ::shutdown(c.fd(), SHUT_WR);
    c.shut_wr_done = true;
  }
}

// --- host sockets ---

void VsockWorker::accept_clients() {
  for (;;) {
    int fd = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        SPDLOG_WARN("vsock: accept on {}: {}", uds_path_, strerror(errno));
      return;
    }
    if (open_streams() >= kMaxStreams) {
      // Accepted only to be closed: the client sees its refusal at once,
      // and the listener does not stay readable (and the loop busy).
      ++counters_.streams_refused;
      SPDLOG_DEBUG("vsock: {}: {} streams open already; refusing a client", uds_path_, kMaxStreams);
      UniqueFd refused(fd);
      continue;
    }
    handshakes_.emplace(fd, Handshake{UniqueFd(fd), std::chrono::steady_clock::now()});
    // Edge-triggered: a partial line is peeked at, not consumed, so a level
    // trigger would fire until the rest arrives.
    on(fd, EPOLLIN | EPOLLRDHUP | EPOLLET, [this, fd](uint32_t) { on_handshake(fd); });
    on_handshake(fd);
  }
}

void VsockWorker::on_handshake(int fd) {
  auto it = handshakes_.find(fd);
  if (it == handshakes_.end()) return;
  HandshakeResult r = read_connect_line(fd);
  if (r.status == HandshakeResult::Incomplete) return;
  if (r.status == HandshakeResult::Invalid) {
    warn_limit_.warn("vsock: {}: {}", uds_path_, r.error);
    loop_.remove(fd);
    handshakes_.erase(it);  // closing it tells the client
    return;
  }
  loop_.remove(fd);  // watched again, by stream id, once it is a stream
  UniqueFd client = std::move(it->second.fd);
  handshakes_.erase(it);
  // Its REQUEST could not be queued: closing the client refuses it.
  if (control_full()) return;
  uint32_t local = allocate_local_port();
  add_connection(std::make_unique<Connection>(std::move(client), local, r.port,
                                              Connection::State::Connecting));
  queue_control(local, r.port, VIRTIO_VSOCK_OP_REQUEST);
}

void VsockWorker::on_host_event(uint32_t id, uint32_t events) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  Connection& c = *it->second;
  if (c.state == Connection::State::Connecting && (events & (EPOLLHUP | EPOLLRDHUP | EPOLLERR))) {
    close_connection(id, true);  // the client gave up before the guest answered
    return;
  }
  if (events & EPOLLERR) {
    close_connection(id, true);
    return;
  }
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) c.host_readable = true;
  if (events & EPOLLOUT) {
    if (!c.flush()) {
      close_connection(id, true);
      return;
    }
    after_flush(id);
  }
}

void VsockWorker::sweep() {
  auto now = std::chrono::steady_clock::now();
  std::erase_if(handshakes_, [&](const auto& kv) {
    bool expired = now - kv.second.since > kHandshakeTimeout;
    if (expired) warn_limit_.warn("vsock: {}: no CONNECT line within 5 s; closed", uds_path_);
    if (expired) loop_.remove(kv.first);
    return expired;
  });
  std::vector<uint32_t> expired;
  for (auto& [id, c] : conns_)
    if (c->state == Connection::State::Connecting && now - c->since > kConnectTimeout)
      expired.push_back(id);
  for (uint32_t id : expired) {
    warn_limit_.warn("vsock: guest did not answer a connection to port {} within 10 s",
                     conns_.at(id)->peer_port());
    close_connection(id, true);
  }
}

Connection* VsockWorker::find(uint32_t local_port, uint32_t peer_port, uint32_t* id) {
  auto it = by_ports_.find({local_port, peer_port});
  if (it == by_ports_.end()) return nullptr;
  if (id) *id = it->second;
  return conns_.at(it->second).get();
}

uint32_t VsockWorker::add_connection(std::unique_ptr<Connection> conn) {
  uint32_t id = next_id_++;
  int fd = conn->fd();
  by_ports_[{conn->local_port(), conn->peer_port()}] = id;
  conns_.emplace(id, std::move(conn));
  on(fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
     [this, id](uint32_t events) { on_host_event(id, events); });
  return id;
}

void VsockWorker::close_connection(uint32_t id, bool send_rst) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  Connection& c = *it->second;
  c.flush();  // best effort: what the guest sent before closing
  if (send_rst) queue_control(c.local_port(), c.peer_port(), VIRTIO_VSOCK_OP_RST);
  // Control packets already queued for this stream still go out; a guest
  // answers those for a stream it no longer has with RST, which is dropped.
  by_ports_.erase({c.local_port(), c.peer_port()});
  loop_.remove(c.fd());
  conns_.erase(it);
}

uint32_t VsockWorker::allocate_local_port() {
  // Host-side ports for host-initiated streams, from a range guests do not
  // use for listening; skip any still in use after wrap-around.
  for (;;) {
    uint32_t p = next_local_port_++;
    if (next_local_port_ == 0) next_local_port_ = 1u << 30;
    bool used = false;
    for (auto& [ports, id] : by_ports_)
      if (ports.first == p) used = true;
    if (!used) return p;
  }
}

}  // namespace vmrt::vmm::vsock
