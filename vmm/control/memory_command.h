#pragma once
// The control socket's "memory" command: the virtio-mem device's sizes, and
// setting the size the guest is asked to have plugged.
//
//   {"cmd":"memory"}
//     -> {"ok":true,"region_mib":R,"block_mib":2,"requested_mib":X,"plugged_mib":P}
//   {"cmd":"memory","requested_mib":X}
//     -> the same, after setting requested_size to X MiB (a multiple of the
//        block size, at most R) and raising a configuration change; the
//        guest then plugs or unplugs on its own time, so plugged_mib follows
//        later (ask again).

#include <nlohmann/json.hpp>

namespace vmrt::vmm {

namespace mem {
class MemDevice;
}

// The reply for `request` (an object with "cmd":"memory"); `device` is null
// for a VM without one. Throws vmrt::Error for a request it refuses.
nlohmann::json memory_command(mem::MemDevice* device, const nlohmann::json& request);

}  // namespace vmrt::vmm
