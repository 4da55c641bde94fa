#include "monitor/discovery.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>

#include "common/container_id.h"
#include "common/error.h"
#include "monitor/bounded_file.h"
#include "sandbox/vmm_command.h"
#include "shim/vmm_pid_file.h"
#include "tools/vmrt/state_store.h"

namespace vmrt::monitor {
namespace {

constexpr size_t kMaxRecord = 1024 * 1024;  // a state.json with many annotations
constexpr size_t kMaxSmallFile = 4096;

// Sub-directories of `root`; none when it does not exist.
std::vector<std::filesystem::path> subdirs(const std::filesystem::path& root) {
  std::vector<std::filesystem::path> out;
  std::error_code ec;
  // increment(ec), not ++: an entry that goes away during the walk (a pod
  // ending) must not throw out of the scrape.
  for (std::filesystem::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (it->is_directory(type_ec) && !it->is_symlink(type_ec)) out.push_back(it->path());
  }
  return out;
}

// The first line of a small file, nullopt when it does not exist.
std::optional<std::string> first_line(const std::filesystem::path& path) {
  auto text = read_bounded(path, kMaxSmallFile);
  if (!text) return std::nullopt;
  return text->substr(0, text->find('\n'));
}

std::string valid_id(const std::string& id, const std::filesystem::path& source) {
  try {
    check_container_id(id);
  } catch (const Error& e) {
    fail("{}: {}", source.string(), e.what());
  }
  return id;
}

void add_cli_vms(const std::filesystem::path& root, Discovery& out) {
  for (const auto& dir : subdirs(root)) {
    try {
      auto text = read_bounded(dir / "state.json", kMaxRecord);
      if (!text) continue;  // not a container's directory (the shim's root)
      cli::ContainerRecord r = cli::record_from_text(*text, (dir / "state.json").string());
      // Not started yet, or ended: there is no VM to ask.
      if (r.vmm.pid <= 0 || !r.vmm.alive()) continue;
      std::string id = valid_id(r.id, dir / "state.json");
      sandbox::SandboxPaths paths(dir);
      out.vms.push_back({id, paths.control_socket(), r.vmm.pid, {}, paths.vm_socket()});
    } catch (const Error& e) {
      out.errors.push_back(e.what());
    }
  }
}

void add_shim_vms(const std::filesystem::path& root, Discovery& out) {
  for (const auto& dir : subdirs(root)) {
    try {
      auto pid_text = first_line(shim::vmm_pid_file(dir));
      if (!pid_text) continue;  // no VM yet, or gone
      int pid = 0;
      auto [end, ec] = std::from_chars(pid_text->data(), pid_text->data() + pid_text->size(), pid);
      if (ec != std::errc() || end != pid_text->data() + pid_text->size() || pid <= 0)
        fail("{}: not a pid", shim::vmm_pid_file(dir).string());
      if (!is_vmm_process(pid)) continue;
      auto pod = first_line(shim::pod_id_file(dir));
      if (!pod) fail("{}: a VMM but no pod id", dir.string());
      std::string id = valid_id(*pod, shim::pod_id_file(dir));
      sandbox::SandboxPaths paths(dir / "sandbox");
      out.vms.push_back(
          {id, paths.control_socket(), pid, shim::start_times_file(dir), paths.vm_socket()});
    } catch (const Error& e) {
      out.errors.push_back(e.what());
    }
  }
}

}  // namespace

std::filesystem::path default_shim_root() {
  if (const char* r = std::getenv("VMRT_SHIM_ROOT"); r && *r) return r;
  return "/run/vmrt/shim";
}

bool is_vmm_process(pid_t pid) {
  std::optional<std::string> cmdline;
  try {
    cmdline = read_bounded(fmt::format("/proc/{}/cmdline", pid), 64 * 1024);
  } catch (const Error&) {
    return false;
  }
  if (!cmdline) return false;
  std::string argv0 = cmdline->substr(0, cmdline->find('\0'));
  return argv0.ends_with("vmrt-vmm");
}

Discovery discover_pod_vms(const StateRoots& roots) {
  Discovery out;
  add_cli_vms(roots.cli, out);
  add_shim_vms(roots.shim, out);
  std::sort(out.vms.begin(), out.vms.end(),
            [](const PodVmRef& a, const PodVmRef& b) { return a.sandbox < b.sandbox; });
  return out;
}

}  // namespace vmrt::monitor
