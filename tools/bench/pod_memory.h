#pragma once
// The host memory of running pods, from /proc: PSS (proportional set size)
// of the shims and of the VMs, per process kind. PSS, not RSS: a VM restored
// from a template maps the template's memory file MAP_PRIVATE, and the pages
// no VM has written are shared by all of them; PSS counts each shared page
// once, split among the processes mapping it.

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace vmrt::bench {

struct PodMemory {
  long shim_kib = 0;
  long shim_anon_kib = 0;  // the shims' own memory; the rest is shared files
  // A VM's host memory is its VMM's and its virtio-fs file server's (a
  // forked vmrt-vmm named vmrt-fs-server): vm_kib is both, vmm_kib the VMMs
  // alone.
  long vm_kib = 0;
  long vmm_kib = 0;
  int shims = 0;
  int vmms = 0;
  int restored = 0;        // VMMs started with --restore (from a VM template)
  std::string first_shim;  // a pid, for pss_by_mapping
};

// Every process whose executable is named `shim_name`, and every vmrt-vmm,
// whatever argv[0] says.
PodMemory measure_pods(const std::string& shim_name);

// Where one process's PSS lies: KiB per mapped file (anonymous memory and
// copied-on-write pages of a file count under the file's name or "[anon]"),
// largest first.
std::vector<std::pair<long, std::string>> pss_by_mapping(const std::string& pid);

// The KiB allocated to the files under `dir` (blocks, not sizes: a sparse
// memory file holds only the pages the guest touched); 0 when it is absent.
long allocated_kib(const std::filesystem::path& dir);

}  // namespace vmrt::bench
