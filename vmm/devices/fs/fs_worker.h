#pragma once
// The running half of the virtio-fs device in the VMM: one relay thread
// (an event loop, common/event_loop.h) that turns the file server's "used entries" signal into the
// virtio-mmio interrupt and its failure reports into NEEDS_RESET. The queues themselves are served
// in the file server process (file_server.h); in direct mode the relay is all the VMM does while
// they run. In relay mode (fs_relay.h) the same thread also carries the guest's requests to the
// server's shadow queues and the replies back.

#include <functional>
#include <memory>
#include <string>

#include "common/event_loop.h"
#include "common/fd.h"
#include "vmm/devices/fs/file_server_process.h"
#include "vmm/devices/fs/fs_relay.h"
#include "vmm/virtio/device.h"

namespace vmrt::vmm::fs {

class FsWorker {
 public:
  // Starts the relay for the queues in `context`, which the server serves
  // already. `used` is the eventfd the server signals; `server` outlives the
  // worker. `server_lost` (may be empty) is called, on the relay thread,
  // when the server ends while it serves the queues. With `relay` (relay
  // mode), the server serves the relay's shadow queues and the worker
  // relays the guest's queues to them.
  FsWorker(virtio::ActivateContext context, FileServerProcess& server, UniqueFd used,
           std::function<void(const std::string& why)> server_lost,
           std::unique_ptr<FsRelay> relay = nullptr);
  // Stops and joins the relay thread, which touches guest memory no more;
  // the server may still touch the queues (direct mode).
  ~FsWorker();

 private:
  // A failure report from the server, or its end.
  void on_server_event();

  virtio::ActivateContext ctx_;
  FileServerProcess& server_;
  UniqueFd used_;
  std::function<void(const std::string&)> server_lost_;
  std::unique_ptr<FsRelay> relay_;
  EventLoop loop_{"virtio-fs"};  // last: its thread uses all of the above
};

}  // namespace vmrt::vmm::fs
