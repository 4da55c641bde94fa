#pragma once
// The VMM control protocol: one JSON object per line each way.
//
//   {"cmd":"info"}      -> {"ok":true,"state":"running","cpus":2,"max_cpus":4,
//                           "vcpu_exits":[5120,880,0,0],"vcpu_exit_reasons":{"io":10,
//                           "mmio":5990,...},"setup_cpu_us":9100,"first_run_us":15200,
//                           "mem_mib":128,"pid":123}  (setup_* once the guest ran:
//                           Machine::setup_cpu_us; reasons: exit_counters.h)
//   {"cmd":"pause"}     -> {"ok":true,"state":"paused"}
//   {"cmd":"resume"}    -> {"ok":true,"state":"running"}
//   {"cmd":"shutdown"}  -> {"ok":true,"state":"ended"}   (the VMM then exits 0)
//   {"cmd":"counters"}  -> {"ok":true,"state":"running","counters":{"vsock":{...},...}}
//                          (each device's counters: device_counters.h)
//   {"cmd":"snapshot"}  -> {"ok":true,"state":"paused"}  (only with --snapshot-dir: the
//                          VM is written there and stays paused; an error such as
//                          open vsock streams leaves it running, to ask again)
//   {"cmd":"memory"[,"requested_mib":X]}
//                       -> {"ok":true,"region_mib":R,"block_mib":2,"requested_mib":X,
//                          "plugged_mib":P}  (virtio-mem: memory_command.h)
//   anything else       -> {"ok":false,"error":"..."}

#include <functional>
#include <string>
#include <string_view>

#include "vmm/control/device_counters.h"
#include "vmm/machine/machine.h"

namespace vmrt::vmm {

const char* state_name(RunState s);

// Handles one request line against `machine` and its `devices`; always
// returns one reply line (without the newline). Never throws on bad input.
// `snapshot` takes the "snapshot" command; none: the command is refused.
std::string handle_control_request(Machine& machine, std::string_view line,
                                   const DeviceCounterSources& devices = {},
                                   const std::function<void()>& snapshot = {});

}  // namespace vmrt::vmm
