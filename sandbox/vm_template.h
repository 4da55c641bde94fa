#pragma once
// VM templates: a snapshot of a sandbox VM booted once to "agent ready,
// nothing mounted, no container" (vmrt-vmm --snapshot-dir), from which
// sandboxes are restored (vmrt-vmm --restore) instead of booting a kernel.
// Every VM restored from one template maps its memory file copy-on-write,
// so the pages no VM has written are in host memory once.
//
// A template depends on what the guest was booted from and with: the VMM,
// kernel and image files (by identity: device, inode, size, times, so a
// rebuilt file makes a new template), the kernel command line, vCPUs,
// memory and whether the VM has a NIC. It lives under the root in a
// directory named by a hash of those, holding key.json (the inputs in
// full, compared on use), state and memory. What makes a restored VM its
// own (clock, entropy, NIC address, hostname, the share) is handed over at
// CreateSandbox.

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "sandbox/config.h"
#include "sandbox/template_record.h"

namespace vmrt::sandbox {

// The MAC a template VM's NIC has, and so every VM restored from it until
// the agent gives the NIC the pod's (CreateSandbox's current_mac).
inline constexpr const char* kTemplateMac = "02:76:6d:72:74:01";

// What a template for `config` depends on, as key.json stores it. Throws
// vmrt::Error when a file cannot be read.
nlohmann::json template_inputs(const RuntimeConfig& config, bool with_net);

class VmTemplate {
 public:
  // The template for `config` under `root`: an existing one whose key.json
  // matches, or one made now by booting a VM (at most config.boot_timeout),
  // under a lock so concurrent sandboxes make it once. Throws vmrt::Error
  // saying why none can be had (the caller then boots); nothing is left
  // running or half written.
  static VmTemplate find_or_make(const std::filesystem::path& root, const RuntimeConfig& config,
                                 bool with_net);

  const std::filesystem::path& dir() const noexcept { return dir_; }
  // Whether it was made by this call (for logs and the start-up figures).
  bool made() const noexcept { return made_; }
  // How restores from it went (sandbox/template_record.h): a failed one may
  // discard it.
  RestoreRecord& restores() noexcept { return restores_; }

 private:
  VmTemplate(std::filesystem::path dir, bool made) : dir_(dir), made_(made), restores_(dir) {}
  std::filesystem::path dir_;
  bool made_;
  RestoreRecord restores_;
};

}  // namespace vmrt::sandbox
