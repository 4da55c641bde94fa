#pragma once
// virtio-fs (device type 26): shares one host directory with the guest,
// which mounts it with `mount -t virtiofs <tag> <dir>`. FUSE requests arrive
// on the high-priority queue (FORGET, INTERRUPT) and the request queues; the
// reply goes into the device-writable part of the same chain.
//
// This is the VMM's half: configuration space and activation. The queues
// are served by a file server process of the device's own (one thread per
// queue; file_server_process.h), so that only that process can touch host
// files. Here, while they are served, the worker (fs_worker.h) relays the
// server's signals to the guest.
//
// In relay mode (FsConfig::relay; fs_relay.h) the file server never maps
// guest RAM: the worker copies requests and replies through a bounce memory
// that the device makes once and shares with the server. For a VM whose RAM
// no other process can map (restored from a template, mapped privately).

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/fd.h"
#include "vmm/devices/fs/counters.h"
#include "vmm/devices/fs/file_server_process.h"
#include "vmm/devices/fs/fs_relay.h"
#include "vmm/devices/fs/fs_worker.h"
#include "vmm/fuse/server.h"
#include "vmm/virtio/device.h"

namespace vmrt::vmm::fs {

struct FsConfig {
  std::string tag;  // 1 to 36 bytes, what the guest names in mount
  fuse::ServerConfig server;
  uint32_t request_queues = 1;
  // Runs in the file server process before it opens the shared directory:
  // its jail, identity and seccomp filter. Empty: none.
  std::function<void()> confine_server;
  // Serve through a bounce memory rather than guest RAM (fs_relay.h).
  bool relay = false;
};

class FsDevice : public virtio::VirtioDevice {
 public:
  static constexpr uint16_t kQueueSize = wire::kMaxQueueSize;
  static constexpr uint32_t kMaxRequestQueues = 16;

  // Validates the tag and starts the file server, which opens the shared
  // directory; throws vmrt::Error. Construct while the process has no other
  // threads (the server is forked), and before guest RAM is mapped: the
  // fork copies the VMM's mappings, so a server forked later would hold
  // guest RAM's pages as they were then, whatever the mode.
  explicit FsDevice(FsConfig config);
  ~FsDevice() override;

  uint32_t device_type() const override;
  uint64_t device_features() const override { return 0; }
  std::vector<uint16_t> queue_max_sizes() const override;
  void read_config(uint64_t offset, std::span<uint8_t> data) const override;
  void activate(virtio::ActivateContext context) override;
  void reset() override;
  // Snapshots. The file server process serves the queues, always from the
  // ring's start, and keeps the FUSE session (INIT, inodes, open files),
  // none of which a snapshot holds: so a virtio-fs device is snapshotted
  // only before the guest ever used it, as in a template VM that has mounted
  // nothing. quiesce() checks that in guest memory (every ready queue's
  // avail and used idx still 0; the server counted no request) and stops
  // nothing: with the vCPUs paused an unused queue gets no work. A restored
  // device starts a fresh server at the ring's start, which is then right.
  // The saved state is the tag, which must match: the guest's driver read
  // it at boot.
  std::vector<virtio::QueuePositions> quiesce(std::span<const virtio::Queue> configured) override;
  nlohmann::json save_state() const override;
  void restore_state(const nlohmann::json& state) override;
  bool resumes_queue_positions() const override { return false; }

  // What the file server counted (written by its process).
  const FsCounters& counters() const noexcept { return counters_.get(); }
  // What the relay did (relay mode; zeros otherwise).
  const RelayStats& relay_stats() const noexcept { return relay_stats_; }
  // The file server's process id (tests, logs).
  pid_t server_pid() const noexcept { return server_.pid(); }
  // Called (on the worker's relay thread) when the file server ends while it serves
  // the queues, after the device has entered NEEDS_RESET: the VMM ends the
  // VM, since the guest's files are gone for good. Set before activation.
  void on_server_lost(std::function<void(const std::string& why)> handler) {
    server_lost_ = std::move(handler);
  }

 private:
  static FsConfig checked(FsConfig config);

  FsConfig config_;
  SharedFsCounters counters_;  // before the server, which counts in them
  FileServerProcess server_;
  std::function<void(const std::string&)> server_lost_;
  RelayStats relay_stats_;
  // Relay mode: made with the device, since the server maps the memory it
  // is first given for good.
  std::optional<GuestMemory> bounce_;
  std::unique_ptr<FsWorker> worker_;  // while the queues are served
};

}  // namespace vmrt::vmm::fs
