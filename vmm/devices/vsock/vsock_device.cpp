#include "vmm/devices/vsock/vsock_device.h"

#include <fcntl.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_vsock.h>
#include <linux/vm_sockets.h>
#include <spdlog/spdlog.h>

#include <cstring>

#include "common/error.h"
#include "common/unix_socket.h"

namespace vmrt::vmm::vsock {

VsockDevice::VsockDevice(VsockConfig config) : config_(std::move(config)) {
  // 0-2 are the hypervisor, local and host; -1 is VMADDR_CID_ANY.
  if (config_.guest_cid <= VMADDR_CID_HOST || config_.guest_cid >= VMADDR_CID_ANY)
    fail("vsock: guest CID {} is reserved (use 3 to {})", config_.guest_cid, VMADDR_CID_ANY - 1);
  if (config_.uds_path.empty()) fail("vsock: no Unix socket path for the VM's vsock");
  listener_ = listen_unix(config_.uds_path);
  int flags = check_sys(fcntl(listener_.get(), F_GETFL), "fcntl");
  check_sys(fcntl(listener_.get(), F_SETFL, flags | O_NONBLOCK), "fcntl");
}

VsockDevice::~VsockDevice() {
  reset();
  ::unlink(config_.uds_path.c_str());
}

uint32_t VsockDevice::device_type() const { return VIRTIO_ID_VSOCK; }

void VsockDevice::read_config(uint64_t offset, std::span<uint8_t> data) const {
  virtio_vsock_config cfg{};
  cfg.guest_cid = config_.guest_cid;
  if (offset >= sizeof cfg) return;
  std::memcpy(data.data(), reinterpret_cast<const uint8_t*>(&cfg) + offset,
              std::min<size_t>(data.size(), sizeof cfg - offset));
}

void VsockDevice::activate(virtio::ActivateContext context) {
  SPDLOG_DEBUG("vsock: driver ready, guest cid {}", config_.guest_cid);
  muxer_ = std::make_unique<Muxer>(std::move(context), config_.guest_cid, config_.uds_path,
                                   listener_.get());
}

void VsockDevice::reset() { muxer_.reset(); }

}  // namespace vmrt::vmm::vsock
