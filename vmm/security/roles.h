#pragma once
// The thread roles of vmrt-vmm, each confined by its own seccomp allow list,
// and how strictly the lists are enforced.

#include <optional>
#include <string_view>

namespace vmrt::vmm::security {

enum class ThreadRole {
  // Runs KVM_RUN and the port-I/O / MMIO exits it returns with.
  Vcpu,
  // virtio devices: the device control thread (activate/reset) and the event
  // threads it starts (vsock worker, virtio-net, the virtio-fs interrupt
  // relay).
  Device,
  // The main thread once set up: signals, the control socket, console
  // flushing, waiting for the VM to end and tearing it down.
  Control,
  // The main thread of a VMM that writes a snapshot on the control socket's
  // command (--snapshot-dir: a template VM, which runs no tenant code):
  // Control's calls, reading the vCPUs' and the VM's state, stopping the
  // devices, and writing the snapshot files it opened before confining.
  SnapshotControl,
  // The virtio-fs file server process (vmm/devices/fs/file_server.h): its
  // command loop and queue workers with the FUSE passthrough, the only code
  // that opens host files.
  FileServer,
};

// "vcpu", "device", "control", "snapshot-control", "file-server": the name a violation report
// gives.
const char* role_name(ThreadRole role);

enum class SeccompMode {
  Off,
  // A system call outside the list is logged by the SIGSYS reporter and the
  // VMM dies.
  On,
  // Outside the list is allowed but logged by the kernel (audit): for finding
  // out what a change of the VMM needs.
  Log,
};

// "on", "off", "log"; nullopt for anything else.
std::optional<SeccompMode> parse_seccomp_mode(std::string_view text);

}  // namespace vmrt::vmm::security
