#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "common/container_id.h"
#include "common/error.h"
#include "common/tempdir.h"
#include "common/unix_socket.h"
#include "github.com/containerd/containerd/runtime/v2/task/shim.pb.h"
#include "sandbox/vmm_cgroup.h"
#include "shim/commands.h"
#include "shim/events.h"
#include "shim/pod_location.h"
#include "shim/vmm_pid_file.h"

namespace vmrt::shim {

namespace fs = std::filesystem;

int delete_command(const ShimArgs& args) {
  // Before the id names anything (a log line, the pod's directory).
  check_container_id(args.id);
  fs::path bundle = args.bundle.empty() ? fs::current_path() : fs::path(args.bundle);
  oci::StringMap annotations;
  try {
    annotations = oci::load_spec(bundle, oci::Purpose::Inspect).annotations;
  } catch (const Error& e) {
    // Without its config the task can only have been a pod of its own.
    spdlog::warn("task {}: {}", args.id, e.what());
  }
  std::string pod = pod_of(args.id, annotations);
  PodLocation where = locate_pod(args.address, args.namespace_, pod);
  // A live shim still owns its pod (containerd cleans up one task whose
  // create failed): nothing of the pod's is ours to remove then.
  if (pod == args.id && !shim_running(where)) {
    // The VMM dies with its shim (parent-death signal); this covers a shim
    // that was stopped rather than killed.
    kill_recorded_vmm(where.dir);
    sandbox::remove_left_cgroup(where.sandbox_dir());
    try {
      // Never into a mount (remove_tree): one left there is the host's.
      remove_tree(where.dir);
    } catch (const Error& e) {
      spdlog::warn("task {}: {}", args.id, e.what());
    }
  }
  containerd::task::v2::DeleteResponse r;
  r.set_exit_status(128 + SIGKILL);
  *r.mutable_exited_at() = timestamp_now();
  std::string out = r.SerializeAsString();
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace vmrt::shim
