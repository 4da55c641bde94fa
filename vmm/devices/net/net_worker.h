#pragma once
// The running half of the virtio-net device: one thread and one event loop
// over the tap and the two queue notifications.
//
//   transmit: each guest chain is checked (tx_frame.h) and written to the
//     tap with one writev; when the tap pushes back (EAGAIN) the chain is
//     given back to the ring and the loop waits for the tap to be writable.
//   receive: frames are read from the tap straight into guest buffers
//     (rx_buffers.h). With no guest buffers the tap is not polled at all
//     until the driver notifies the receive queue, so frames wait in the
//     tap's queue rather than being read and dropped.
//
// Each direction handles a bounded batch per wake-up, so a guest that never
// stops sending cannot keep the loop from seeing the stop request.

#include <cstdint>
#include <optional>

#include "common/event_loop.h"
#include "vmm/devices/net/counters.h"
#include "vmm/devices/net/rx_buffers.h"
#include "vmm/devices/net/tap.h"
#include "vmm/devices/net/tx_frame.h"
#include "vmm/virtio/device.h"
#include "vmm/virtio/loop_quiesce.h"

namespace vmrt::vmm::net {

class NetWorker {
 public:
  // Queues in `context`: 0 receive, 1 transmit. The tap and the counters
  // outlive the worker.
  NetWorker(virtio::ActivateContext context, const TapFd& tap, NetCounters& counters);
  // Stops the thread; no guest memory is touched afterwards.
  ~NetWorker();

  // For a snapshot: gives back the receive buffers it holds and stops the
  // thread, returning each queue's positions; or throws vmrt::Error and
  // goes on serving (virtio/loop_quiesce.h).
  std::vector<virtio::QueuePositions> quiesce() { return quiesce_->stop(); }
  // After quiesce(): the queues and the rest of the context, for a new
  // worker to serve from where this one stopped.
  virtio::ActivateContext take_context() &&;

 private:
  // Both directions once; true when a batch ran out with work left.
  bool service();
  bool process_tx();
  bool process_rx();
  bool send(const TxFrame& frame);
  void watch_tap();
  void on_tap(uint32_t events);
  void needs_reset(const std::string& why);

  virtio::ActivateContext ctx_;
  const TapFd& tap_;
  NetCounters& counters_;
  const uint64_t features_;
  std::optional<RxBuffers> rx_;

  // The receive path waits for the driver's buffers (no tap polling).
  bool rx_waiting_ = false;
  // The tap refused a write with EAGAIN: wait for EPOLLOUT.
  bool tx_blocked_ = false;
  // The tap (or the socket standing in) is gone or broken for reading.
  bool tap_closed_ = false;
  uint32_t tap_events_ = 0;  // what epoll watches on the tap now
  bool needs_reset_ = false;
  std::optional<virtio::LoopQuiesce> quiesce_;

  EventLoop loop_{"virtio-net"};  // last: its thread uses all of the above
};

}  // namespace vmrt::vmm::net
