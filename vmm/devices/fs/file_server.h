#pragma once
// The file server process's side (see file_server_process.h): confines
// itself, opens the shared directory, answers "started", then serves the
// virtio-fs queues of each Activate until Reset, one thread per queue, until
// the VMM closes the command socket. Each request is counted in the shared
// FsCounters.

#include <functional>

#include "common/fd.h"
#include "vmm/devices/fs/counters.h"
#include "vmm/fuse/server.h"

namespace vmrt::vmm::fs {

// Runs in the forked child; never returns (exit status 0 when the VMM
// closed the command socket, 1 when the server could not start).
[[noreturn]] void run_file_server(UniqueFd commands, UniqueFd events,
                                  const fuse::ServerConfig& config,
                                  const std::function<void()>& confine, FsCounters& counters);

}  // namespace vmrt::vmm::fs
