#pragma once
// The running half of the vsock device: one thread that moves packets
// between the guest's virtqueues and host Unix sockets (the hybrid vsock
// scheme, as Firecracker does it):
//   host -> guest: a host process connects to the VM's socket and writes
//     "CONNECT <port>\n"; once the guest accepts, it reads "OK <host_port>\n"
//     and the socket is a byte stream to the guest listener on <port>.
//   guest -> host: a guest connection to host port P is forwarded to the
//     Unix socket "<VM socket>_P".
// A refused or reset stream closes the Unix socket on the host side and
// reaches the guest as RST.
//
// Everything is driven by one event loop (common/event_loop.h), so
// connections need no locks; the worker keeps only its handlers.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "common/event_loop.h"
#include "common/fd.h"
#include "common/log_rate_limit.h"
#include "vmm/devices/vsock/connection.h"
#include "vmm/devices/vsock/counters.h"
#include "vmm/devices/vsock/vsock_wire.h"
#include "vmm/virtio/device.h"
#include "vmm/virtio/loop_quiesce.h"

namespace vmrt::vmm::vsock {

// Streams one VM may have open at once, both directions and handshakes
// included: a guest (or host client) that opens more is refused, so that a
// flood of connections cannot take the VMM's descriptors, or its memory.
inline constexpr size_t kMaxStreams = 512;

// Control packets (RST, RESPONSE, REQUEST, CREDIT_UPDATE) waiting for a
// receive buffer. A guest that posts no receive buffers and keeps sending
// refused packets would grow the queue by one reset each: past this many,
// resets are dropped (counted in VsockCounters::control_dropped) and guest
// connection requests refused unanswered. Credit updates, one per stream at
// most, are always queued, so the queue never holds more than
// kMaxControlQueued + kMaxStreams entries.
inline constexpr size_t kMaxControlQueued = 1024;

class VsockWorker {
 public:
  // Queues in `context`: 0 rx, 1 tx, 2 event. `listener` (non-blocking) is
  // the VM's hybrid socket, owned by the device.
  // `counters` (the device's) outlive the worker.
  VsockWorker(virtio::ActivateContext context, uint64_t guest_cid, std::string uds_path,
              int listener, VsockCounters& counters);
  // Stops the thread and closes every stream.
  ~VsockWorker();

  // For a snapshot: stops the thread when no stream is open (or being
  // opened) and no control packet waits for the guest, returning each
  // queue's positions; otherwise throws vmrt::Error ("virtio-vsock: 2
  // streams open") and goes on serving. The caller retries once the host's
  // connections have closed.
  std::vector<virtio::QueuePositions> quiesce() { return quiesce_->stop(); }
  // After quiesce(): the queues and the rest of the context, for a new
  // worker to serve from where this one stopped.
  virtio::ActivateContext take_context() &&;

 private:
  static constexpr size_t kRx = 0, kTx = 1, kEvent = 2;  // queue indices
  struct Control {
    uint32_t local_port;
    uint32_t peer_port;
    uint16_t op;
    uint32_t flags;
  };
  struct Handshake {
    UniqueFd fd;
    std::chrono::steady_clock::time_point since;
  };
  using Ports = std::pair<uint32_t, uint32_t>;  // (host port, guest port)

  // Watches `fd` with `handler`, which puts the device into NEEDS_RESET on
  // a broken ring and logs any other error.
  void on(int fd, uint32_t events, std::function<void(uint32_t)> handler);
  void service_queues();
  void process_tx();
  void process_rx();
  void handle_packet(const virtio_vsock_hdr& h, const virtio::DescriptorChain& chain);
  void connect_to_host(const virtio_vsock_hdr& h);
  void accept_clients();
  void on_handshake(int fd);
  size_t open_streams() const;
  void on_host_event(uint32_t id, uint32_t events);
  void after_flush(uint32_t id);
  void sweep();
  Connection* find(uint32_t local_port, uint32_t peer_port, uint32_t* id = nullptr);
  uint32_t add_connection(std::unique_ptr<Connection> conn);
  void close_connection(uint32_t id, bool send_rst);
  void queue_control(uint32_t local_port, uint32_t peer_port, uint16_t op, uint32_t flags = 0);
  bool control_full() const noexcept { return control_.size() >= kMaxControlQueued; }
  void queue_credit_update(Connection& conn);
  Connection* next_sender();
  uint32_t allocate_local_port();
  void needs_reset(const std::string& why);

  virtio::ActivateContext ctx_;
  const uint64_t guest_cid_;
  const std::string uds_path_;
  const int listener_;
  VsockCounters& counters_;
  // Warnings a guest (or host client) causes at will.
  LogRateLimit warn_limit_;
  UniqueFd timer_;

  std::map<uint32_t, std::unique_ptr<Connection>> conns_;
  std::map<Ports, uint32_t> by_ports_;
  std::map<int, Handshake> handshakes_;
  std::deque<Control> control_;
  uint32_t next_id_ = 1;
  uint32_t next_local_port_ = 1u << 30;
  uint32_t rr_cursor_ = 0;  // round robin among streams with data for the guest
  bool needs_reset_ = false;
  std::optional<virtio::LoopQuiesce> quiesce_;

  EventLoop loop_{"vsock"};  // last: its thread uses all of the above
};

}  // namespace vmrt::vmm::vsock
