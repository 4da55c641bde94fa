#pragma once
// virtio-fs (device type 26): shares one host directory with the guest,
// which mounts it with `mount -t virtiofs <tag> <dir>`. FUSE requests arrive
// on the high-priority queue (FORGET, INTERRUPT) and the request queues; the
// reply goes into the device-writable part of the same chain. The FUSE
// protocol itself is vmm/fuse's Server; this file is the virtio glue: one
// worker thread per queue, so a slow request on one queue does not hold up
// the others.

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/fd.h"
#include "vmm/fuse/server.h"
#include "vmm/virtio/device.h"

namespace vmrt::vmm::fs {

struct FsConfig {
  std::string tag;  // 1 to 36 bytes, what the guest names in mount
  fuse::ServerConfig server;
  uint32_t request_queues = 1;
};

class FsDevice : public virtio::VirtioDevice {
 public:
  static constexpr uint16_t kQueueSize = 256;
  static constexpr uint32_t kMaxRequestQueues = 16;

  // Validates the tag and opens the shared directory; throws vmrt::Error.
  explicit FsDevice(FsConfig config);
  ~FsDevice() override;

  uint32_t device_type() const override;
  uint64_t device_features() const override { return 0; }
  std::vector<uint16_t> queue_max_sizes() const override;
  void read_config(uint64_t offset, std::span<uint8_t> data) const override;
  void activate(virtio::ActivateContext context) override;
  void reset() override;

 private:
  void serve(size_t queue);

  FsConfig config_;
  std::unique_ptr<fuse::Server> server_;
  std::unique_ptr<virtio::ActivateContext> ctx_;
  UniqueFd stop_;
  std::vector<std::thread> workers_;
};

}  // namespace vmrt::vmm::fs
