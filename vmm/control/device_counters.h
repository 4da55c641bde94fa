#pragma once
// The devices' counters as JSON, for the control socket's "counters"
// command: one object per device present, each counter by name.
//
//   {"vsock":{"streams_refused":0,...},
//    "net":{"tx_frames":12,"tx_bytes":1804,...},
//    "fs":{"requests":{"INIT":1,"LOOKUP":7},"errors":2,"malformed":0},
//    "mem":{"plug_requests":3,...,"plugged_bytes":6291456}}

#include <memory>
#include <nlohmann/json.hpp>

#include "vmm/devices/fs/counters.h"
#include "vmm/devices/mem/counters.h"
#include "vmm/devices/net/counters.h"
#include "vmm/devices/vsock/counters.h"

namespace vmrt::vmm {

namespace fs {
class FsDevice;
}
namespace mem {
class MemDevice;
}
namespace net {
class NetDevice;
}
namespace vsock {
class VsockDevice;
}

// The VM's devices with counters; null for those it does not have.
struct DeviceCounterSources {
  std::shared_ptr<const vsock::VsockDevice> vsock;
  std::shared_ptr<const net::NetDevice> net;
  std::shared_ptr<const fs::FsDevice> fs;
  // Not const: the control socket's "memory" command resizes through it.
  std::shared_ptr<mem::MemDevice> mem;
};

nlohmann::json counters_json(const vsock::VsockCounters& c);
nlohmann::json counters_json(const net::NetCounters& c);
// Only the opcodes seen appear under "requests".
nlohmann::json counters_json(const fs::FsCounters& c);
// With the bytes plugged now, which the region keeps rather than a counter.
nlohmann::json counters_json(const mem::MemCounters& c, uint64_t plugged_bytes);
nlohmann::json counters_json(const DeviceCounterSources& devices);

}  // namespace vmrt::vmm
