#include "vmm/control/device_counters.h"

#include "vmm/devices/fs/fs_device.h"
#include "vmm/devices/mem/mem_device.h"
#include "vmm/devices/net/net_device.h"
#include "vmm/devices/vsock/vsock_device.h"

namespace vmrt::vmm {

nlohmann::json counters_json(const vsock::VsockCounters& c) {
  return {{"streams_refused", c.streams_refused.load()},
          {"resets_sent", c.resets_sent.load()},
          {"resets_received", c.resets_received.load()},
          {"credit_overruns", c.credit_overruns.load()},
          {"control_dropped", c.control_dropped.load()},
          {"connects_refused", c.connects_refused.load()},
          {"control_peak", c.control_peak.load()}};
}

nlohmann::json counters_json(const net::NetCounters& c) {
  return {{"tx_frames", c.tx_frames.load()},   {"tx_bytes", c.tx_bytes.load()},
          {"tx_dropped", c.tx_dropped.load()}, {"tx_errors", c.tx_errors.load()},
          {"rx_frames", c.rx_frames.load()},   {"rx_bytes", c.rx_bytes.load()},
          {"rx_dropped", c.rx_dropped.load()}, {"rx_bad_buffers", c.rx_bad_buffers.load()}};
}

nlohmann::json counters_json(const fs::FsCounters& c) {
  nlohmann::json requests = nlohmann::json::object();
  for (uint32_t slot = 0; slot < fs::FsCounters::kOpcodeSlots; ++slot)
    if (uint64_t n = c.requests[slot].load()) requests[fs::fuse_opcode_name(slot)] = n;
  return {{"requests", std::move(requests)},
          {"errors", c.errors.load()},
          {"malformed", c.malformed.load()}};
}

nlohmann::json counters_json(const mem::MemCounters& c, uint64_t plugged_bytes) {
  return {{"plug_requests", c.plug_requests.load()},
          {"unplug_requests", c.unplug_requests.load()},
          {"unplug_all_requests", c.unplug_all_requests.load()},
          {"state_requests", c.state_requests.load()},
          {"nacks", c.nacks.load()},
          {"errors", c.errors.load()},
          {"malformed", c.malformed.load()},
          {"plugged_bytes", plugged_bytes}};
}

nlohmann::json counters_json(const DeviceCounterSources& devices) {
  nlohmann::json out = nlohmann::json::object();
  if (devices.vsock) out["vsock"] = counters_json(devices.vsock->counters());
  if (devices.net) out["net"] = counters_json(devices.net->counters());
  if (devices.fs) out["fs"] = counters_json(devices.fs->counters());
  if (devices.mem)
    out["mem"] = counters_json(devices.mem->counters(), devices.mem->status().plugged_bytes);
  return out;
}

}  // namespace vmrt::vmm
