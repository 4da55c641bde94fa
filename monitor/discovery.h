#pragma once
// Finding the node's pod VMs at scrape time, where their owners record
// them, keeping nothing between scrapes:
//  - the vmrt CLI's state root (tools/vmrt/state_store.h): ROOT/ID/state.json
//    names the VMM, the sandbox directory is ROOT/ID;
//  - the containerd shim's root (shim/pod_location.h): SHIM_ROOT/HASH/ holds
//    vmm.pid and pod (shim/vmm_pid_file.h), the sandbox directory is
//    SHIM_ROOT/HASH/sandbox.
// The VMM's control socket is the sandbox directory's vm/control.sock, its
// hybrid vsock socket vm/vm.sock (sandbox::SandboxPaths).

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace vmrt::monitor {

struct StateRoots {
  std::filesystem::path cli = "/run/vmrt";
  std::filesystem::path shim = "/run/vmrt/shim";
};

// The shim's root as the shim picks it: VMRT_SHIM_ROOT, else /run/vmrt/shim.
std::filesystem::path default_shim_root();

struct PodVmRef {
  std::string sandbox;  // the sandbox (pod) id
  std::filesystem::path control_socket;
  pid_t vmm_pid = 0;  // host view
  // The shim's record of how long the VM took to start
  // (shim::start_times_file); empty for the CLI's, which keeps none.
  std::filesystem::path start_times;
  // The VM's hybrid vsock socket, through which its agent is asked
  // (agent_query.h).
  std::filesystem::path vm_socket;
};

struct Discovery {
  std::vector<PodVmRef> vms;  // sorted by sandbox id
  // What could not be read (a corrupt record): one message each.
  std::vector<std::string> errors;
};

// The VMs whose VMM runs now. Entries without a VMM yet (a create or a pod
// start under way) or whose VMM has ended are left out; a missing root is
// an empty one.
Discovery discover_pod_vms(const StateRoots& roots);

// Whether `pid` is a live process whose command (argv[0]) ends in
// "vmrt-vmm": the recorded pid of a VMM that ended may have been reused.
bool is_vmm_process(pid_t pid);

}  // namespace vmrt::monitor
