#pragma once
// A whole VM's snapshot on disk, as vmrt-vmm writes and restores it: a
// directory holding `state` (vmm/snapshot/state_file.h: the machine's and
// every virtio slot's state) and `memory` (guest RAM, sparse). A template
// VM writes one on the control socket's "snapshot" command; a VMM started
// with --restore maps its memory copy-on-write and continues from it.

#include <nlohmann/json.hpp>
#include <string>

#include "common/fd.h"
#include "vmm/machine/machine.h"
#include "vmm/machine/virtio_slots.h"

namespace vmrt::vmm {

// The files a snapshot goes to, created (empty) when the VMM starts: a
// confined VMM opens no file later.
struct SnapshotFiles {
  static SnapshotFiles create(const std::string& dir);
  UniqueFd state;
  UniqueFd memory;
};

// Pauses the VM, stops its devices and writes it out. The VM stays paused:
// a template VM is ended after its snapshot. Throws vmrt::Error (a device
// that cannot be snapshotted now, such as vsock with streams open, says so;
// the VM is resumed then, so the caller may ask again).
void take_snapshot(Machine& machine, VirtioSlots& slots, SnapshotFiles& files);

// A snapshot read for restoring: its checked state document and its memory
// file, opened before the VMM enters its jail.
struct SnapshotSource {
  static SnapshotSource open(const std::string& dir);
  nlohmann::json state;
  UniqueFd memory;
};

}  // namespace vmrt::vmm
