#include "vmm/config/vmm_config.h"

#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "common/error.h"
#include "common/json_text.h"
#include "vmm/devices/net/mac_address.h"
#include "vmm/fuse/cache_mode.h"
#include "vmm/security/roles.h"

namespace vmrt::vmm {

namespace {

constexpr uint64_t kMinMemMib = 16;  // below this the guest kernel cannot unpack itself
constexpr uint32_t kMaxCpus = 254;   // 8-bit APIC IDs, 255 is broadcast

template <typename T>
void take(const nlohmann::json& j, const char* key, const std::string& source, T& out) {
  auto it = j.find(key);
  if (it == j.end()) return;
  try {
    out = it->template get<T>();
  } catch (const nlohmann::json::exception&) {
    fail("{}: \"{}\" has the wrong type ({})", source, key, it->type_name());
  }
}

template <>
void take(const nlohmann::json& j, const char* key, const std::string& source, uint64_t& out) {
  auto it = j.find(key);
  if (it == j.end()) return;
  if (!it->is_number_unsigned()) fail("{}: \"{}\" must be a non-negative integer", source, key);
  out = it->get<uint64_t>();
}

template <>
void take(const nlohmann::json& j, const char* key, const std::string& source, uint32_t& out) {
  uint64_t v = out;
  take<uint64_t>(j, key, source, v);
  if (v > UINT32_MAX) fail("{}: \"{}\" is too large", source, key);
  out = static_cast<uint32_t>(v);
}

// An fd number: a non-negative int.
template <>
void take(const nlohmann::json& j, const char* key, const std::string& source, int& out) {
  if (j.find(key) == j.end()) return;
  uint64_t v = 0;
  take<uint64_t>(j, key, source, v);
  if (v > INT_MAX) fail("{}: \"{}\" is too large", source, key);
  out = static_cast<int>(v);
}

uint64_t host_mem_mib() {
  long pages = sysconf(_SC_PHYS_PAGES);
  long page = sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) >> 20
                               : 0;
}

void require_readable_file(const std::string& what, const std::string& path) {
  if (access(path.c_str(), R_OK) != 0) throw_errno(fmt::format("{} {}", what, path));
}

}  // namespace

VmmConfig config_from_json(const nlohmann::json& j, const std::string& source, VmmConfig c) {
  if (!j.is_object()) fail("{}: expected a JSON object", source);
  static const char* kKeys[] = {
      "kernel",       "initrd",     "cmdline",        "mem_mib",      "cpus",         "max_cpus",
      "hugepages",    "console",    "control_socket", "vsock_socket", "vsock_cid",    "fs_dir",
      "fs_tag",       "fs_cache",   "net_tap",        "net_tap_fd",   "net_mac",      "seccomp",
      "log_level",    "jail",       "jail_uid",       "jail_gid",     "snapshot_dir", "restore",
      "restore_copy", "hotplug_mib"};
  for (const auto& [key, value] : j.items()) {
    bool known = false;
    for (const char* k : kKeys) known |= key == k;
    if (!known) fail("{}: unknown key \"{}\"", source, key);
  }
  take(j, "kernel", source, c.kernel);
  take(j, "initrd", source, c.initrd);
  take(j, "cmdline", source, c.cmdline);
  take(j, "mem_mib", source, c.mem_mib);
  take(j, "cpus", source, c.cpus);
  take(j, "max_cpus", source, c.max_cpus);
  take(j, "hugepages", source, c.hugepages);
  take(j, "console", source, c.console);
  take(j, "control_socket", source, c.control_socket);
  take(j, "vsock_socket", source, c.vsock_socket);
  take(j, "vsock_cid", source, c.vsock_cid);
  take(j, "fs_dir", source, c.fs_dir);
  take(j, "fs_tag", source, c.fs_tag);
  take(j, "fs_cache", source, c.fs_cache);
  take(j, "net_tap", source, c.net_tap);
  take(j, "net_tap_fd", source, c.net_tap_fd);
  take(j, "net_mac", source, c.net_mac);
  take(j, "seccomp", source, c.seccomp);
  take(j, "log_level", source, c.log_level);
  take(j, "jail", source, c.jail);
  take(j, "jail_uid", source, c.jail_uid);
  take(j, "jail_gid", source, c.jail_gid);
  take(j, "snapshot_dir", source, c.snapshot_dir);
  take(j, "restore", source, c.restore);
  take(j, "restore_copy", source, c.restore_copy);
  take(j, "hotplug_mib", source, c.hotplug_mib);
  return c;
}

VmmConfig load_config_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw_errno("cannot read configuration " + path);
  std::string text(std::istreambuf_iterator<char>(in), {});
  return config_from_json(parse_json_text(text, path), path);
}

void validate(const VmmConfig& c) {
  if (!c.restore.empty()) {
    // The snapshot holds what the guest booted from; giving both would be
    // a caller's mistake, not a choice.
    if (!c.kernel.empty() || !c.initrd.empty())
      fail("--restore takes the guest from a snapshot: --kernel and --initrd do not apply");
    // Its files are the snapshot's to check (SnapshotSource::open): one
    // missing is a snapshot that cannot be restored, not a bad setting.
    if (c.hugepages) fail("a VM restored from a snapshot cannot use huge pages");
    if (!c.snapshot_dir.empty()) fail("--snapshot-dir and --restore: one or the other");
  } else {
    if (c.restore_copy) fail("--restore-copy applies to a VM restored from a snapshot (--restore)");
    if (c.kernel.empty()) fail("no guest kernel given (--kernel)");
    require_readable_file("guest kernel", c.kernel);
    if (!c.initrd.empty()) require_readable_file("initrd", c.initrd);
  }
  if (!c.snapshot_dir.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_directory(c.snapshot_dir, ec))
      fail("snapshot directory {} does not exist or is not a directory", c.snapshot_dir);
    if (c.control_socket.empty())
      fail("--snapshot-dir needs --control-socket: the snapshot is taken on its command");
    if (!c.jail.empty()) fail("--snapshot-dir: a jailed VMM cannot write outside its jail");
  }
  if (c.mem_mib < kMinMemMib)
    fail("guest memory of {} MiB is too small: at least {} MiB", c.mem_mib, kMinMemMib);
  uint64_t host = host_mem_mib();
  if (host && c.mem_mib > host)
    fail("guest memory of {} MiB is more than this host's {} MiB of RAM", c.mem_mib, host);
  if (c.cpus == 0) fail("a VM needs at least one vCPU (--cpus)");
  if (c.cpus > kMaxCpus) fail("{} vCPUs requested: at most {} are supported", c.cpus, kMaxCpus);
  if (c.max_cpus > kMaxCpus)
    fail("--max-cpus {}: at most {} vCPUs are supported", c.max_cpus, kMaxCpus);
  if (c.max_cpus != 0 && c.max_cpus < c.cpus)
    fail("--max-cpus {} is less than --cpus {}: the VM cannot start more vCPUs than it has",
         c.max_cpus, c.cpus);
  // 0-2 name the hypervisor, loopback and host; 2^32-1 is "any".
  if (!c.vsock_socket.empty() && (c.vsock_cid < 3 || c.vsock_cid >= 0xffffffff))
    fail("vsock guest CID {} is reserved: use 3 to 4294967294", c.vsock_cid);
  if (!c.fs_dir.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_directory(c.fs_dir, ec))
      fail("virtio-fs shared directory {} does not exist or is not a directory", c.fs_dir);
    if (c.fs_tag.empty() || c.fs_tag.size() > 36)
      fail("virtio-fs tag \"{}\" must be 1 to 36 bytes", c.fs_tag);
    if (!fuse::parse_cache_mode(c.fs_cache))
      fail("virtio-fs cache mode \"{}\" is not one of none, auto, always", c.fs_cache);
  }
  if (!c.net_tap.empty() && c.net_tap_fd >= 0)
    fail("virtio-net: give a tap name (--net-tap) or an open tap fd (--net-tap-fd), not both");
  if (!c.net_tap.empty() && c.net_tap.size() >= IFNAMSIZ)
    fail("virtio-net: tap name \"{}\" is longer than {} bytes", c.net_tap, IFNAMSIZ - 1);
  if (c.net_tap_fd >= 0 && fcntl(c.net_tap_fd, F_GETFD) < 0)
    throw_errno(fmt::format("virtio-net: tap fd {}", c.net_tap_fd));
  if (!c.net_mac.empty() && !net::parse_mac(c.net_mac))
    fail("virtio-net: MAC address \"{}\" is not a unicast xx:xx:xx:xx:xx:xx", c.net_mac);
  if (!security::parse_seccomp_mode(c.seccomp))
    fail("seccomp \"{}\" is not one of on, off, log", c.seccomp);
  if (!c.jail.empty()) {
    if (!std::filesystem::path(c.jail).is_absolute())
      fail("jail directory \"{}\" is not an absolute path", c.jail);
    if (::geteuid() != 0)
      fail(
          "a jail (--jail) needs root: vmrt-vmm sets it up and then drops to "
          "uid {}",
          c.jail_uid);
    if (c.jail_uid == 0 || c.jail_gid == 0)
      fail("the jail's uid and gid must not be root's (0): they are what the VMM drops to");
    if (c.jail_uid > 0xfffffffe || c.jail_gid > 0xfffffffe)
      fail("jail uid {} or gid {} is out of range", c.jail_uid, c.jail_gid);
  }
  // Linux hot-adds memory in 128 MiB memory blocks; a region of 1 TiB and
  // more is past what the layout allows.
  if (c.hotplug_mib % 128)
    fail("hotplug memory of {} MiB is not a multiple of 128 MiB (--hotplug-mib)", c.hotplug_mib);
  if (c.hotplug_mib >= (uint64_t{1} << 20))
    fail("hotplug memory of {} MiB is more than the supported 1 TiB", c.hotplug_mib);
  if (c.hugepages && c.mem_mib % 2)
    fail("with huge pages, guest memory must be a multiple of 2 MiB");
}

}  // namespace vmrt::vmm
