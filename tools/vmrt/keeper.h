#pragma once
// The keeper: the process that holds one `vmrt create`d container's sandbox
// for as long as the container lives. It starts the VMM (its child, which
// dies with it), creates the container in the guest, relays the container's
// stdio to the descriptors the creating command was given (or to the
// --console-socket terminal), forwards the signals it receives to the
// container, and when the container exits records the exit status, stops
// the VM and exits with that status. Its pid is the container's pid in
// `vmrt state` and in --pid-file. `vmrt delete` kills it to end a sandbox.

#include <filesystem>
#include <string>

#include "common/oci/spec.h"
#include "sandbox/config.h"
#include "tools/vmrt/detached_worker.h"
#include "tools/vmrt/state_store.h"

namespace vmrt::cli {

struct KeeperPlan {
  std::string id;
  oci::Spec spec;
  std::filesystem::path bundle;  // absolute
  std::filesystem::path rootfs;  // absolute
  sandbox::RuntimeConfig config;
  std::filesystem::path state_root;
  std::string console_socket;
  std::string pid_file;
  bool start = false;  // vmrt run: start the container once created
};

// Runs in the forked keeper. `container` is the locked state directory the
// command created, with its first record; it is released once the container
// is created (or removed when creation fails). Returns the keeper's exit
// status: the container's, or 255 when the VM ended under it.
int run_keeper(const KeeperPlan& plan, LockedContainer container, ContainerRecord record,
               WorkerReport& report);

// The keeper's log file when no --log was given.
std::filesystem::path keeper_log(const std::filesystem::path& container_dir);

}  // namespace vmrt::cli
