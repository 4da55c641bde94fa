#include "vmm/devices/vsock/vsock_device.h"

#include <linux/virtio_ids.h>
#include <linux/virtio_vsock.h>
#include <linux/vm_sockets.h>
#include <spdlog/spdlog.h>

#include "common/error.h"
#include "common/fd_io.h"
#include "common/json_fields.h"
#include "common/unix_socket.h"

namespace vmrt::vmm::vsock {

VsockDevice::VsockDevice(VsockConfig config) : config_(std::move(config)) {
  // 0-2 are the hypervisor, local and host; -1 is VMADDR_CID_ANY.
  if (config_.guest_cid <= VMADDR_CID_HOST || config_.guest_cid >= VMADDR_CID_ANY)
    fail("vsock: guest CID {} is reserved (use 3 to {})", config_.guest_cid, VMADDR_CID_ANY - 1);
  if (config_.uds_path.empty()) fail("vsock: no Unix socket path for the VM's vsock");
  listener_ = listen_unix(config_.uds_path);
  set_nonblocking(listener_.get());
}

VsockDevice::~VsockDevice() {
  reset();
  ::unlink(config_.uds_path.c_str());
}

uint32_t VsockDevice::device_type() const { return VIRTIO_ID_VSOCK; }

void VsockDevice::read_config(uint64_t offset, std::span<uint8_t> data) const {
  virtio_vsock_config cfg{};
  cfg.guest_cid = config_.guest_cid;
  virtio::read_config_bytes(cfg, offset, data);
}

void VsockDevice::activate(virtio::ActivateContext context) {
  SPDLOG_DEBUG("vsock: driver ready, guest cid {}", config_.guest_cid);
  worker_ = std::make_unique<VsockWorker>(std::move(context), config_.guest_cid, config_.uds_path,
                                          listener_.get(), counters_);
}

void VsockDevice::reset() {
  worker_.reset();
  quiesced_.reset();
}

std::vector<virtio::QueuePositions> VsockDevice::quiesce(std::span<const virtio::Queue>) {
  return virtio::park_worker(worker_, quiesced_, "virtio-vsock");
}

void VsockDevice::resume() {
  if (!quiesced_) return;
  worker_ = std::make_unique<VsockWorker>(std::move(*quiesced_), config_.guest_cid,
                                          config_.uds_path, listener_.get(), counters_);
  quiesced_.reset();
}

nlohmann::json VsockDevice::save_state() const { return {{"guest_cid", config_.guest_cid}}; }

void VsockDevice::restore_state(const nlohmann::json& state) {
  const std::string source = "virtio-vsock state";
  json_fields::Reader r(state, "device", source);
  uint64_t cid = 0;
  r.required("guest_cid", cid);
  if (cid != config_.guest_cid)
    fail("{}: the snapshot's guest has CID {}, this VM's is {}", source, cid, config_.guest_cid);
}

}  // namespace vmrt::vmm::vsock
