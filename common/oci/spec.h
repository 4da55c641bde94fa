#pragma once
// The OCI runtime spec's config.json (runtime-spec 1.0/1.1, Linux), as the
// CLI, the shim and the agent read it. Parsing is strict about types and
// required fields, and every error names the file and the JSON path, e.g.
//   config.json: process.args: expected an array of strings, got number
//   config.json: missing required field "ociVersion"
//
// Round trip: to_json(parse_spec(j)) keeps every field modelled here. Fields
// this model does not know (Windows, Solaris, VM and z/OS sections,
// linux.intelRdt, linux.timeOffsets, resources.rdma, process.scheduler,
// process.ioPriority, extensions from the future) are ignored when parsing,
// as runc ignores them, and therefore dropped by the round trip.
//
// std::optional marks fields whose absence means something other than zero
// (no memory limit is not a limit of 0); other absent fields read as empty.

#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

// Spec::linux mirrors the JSON key; GNU dialects (-std=gnu++20) predefine a
// `linux` macro that would break it, hence CMAKE_CXX_EXTENSIONS OFF.
#ifdef linux
#error "vmrt needs -std=c++20, not gnu++20: the GNU dialect defines a 'linux' macro"
#endif

namespace vmrt::oci {

using StringMap = std::map<std::string, std::string>;
using Strings = std::vector<std::string>;

struct ConsoleSize {
  uint32_t height = 0;
  uint32_t width = 0;
};

struct User {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::optional<uint32_t> umask;
  std::vector<uint32_t> additional_gids;
};

struct Capabilities {
  Strings bounding, effective, inheritable, permitted, ambient;  // CAP_* names
};

struct Rlimit {
  std::string type;  // RLIMIT_*
  uint64_t hard = 0;
  uint64_t soft = 0;
};

struct Process {
  bool terminal = false;
  std::optional<ConsoleSize> console_size;
  User user;
  Strings args;
  Strings env;
  std::string cwd;
  Capabilities capabilities;
  std::vector<Rlimit> rlimits;
  bool no_new_privileges = false;
  std::string apparmor_profile;
  std::optional<int32_t> oom_score_adj;
  std::string selinux_label;
};

struct Root {
  std::string path;
  bool readonly = false;
};

struct IdMapping {
  uint32_t container_id = 0;
  uint32_t host_id = 0;
  uint32_t size = 0;
};

struct Mount {
  std::string destination;
  std::string type;
  std::string source;
  Strings options;
  std::vector<IdMapping> uid_mappings, gid_mappings;  // idmapped mounts
};

struct Hook {
  std::string path;
  Strings args;
  Strings env;
  std::optional<int32_t> timeout;  // seconds
};

struct Hooks {
  std::vector<Hook> prestart, create_runtime, create_container, start_container, poststart,
      poststop;
};

struct Namespace {
  std::string type;  // pid, network, mount, ipc, uts, user, cgroup, time
  std::string path;  // join this namespace instead of creating one
};

// A device node to create in the container (linux.devices).
struct Device {
  std::string type;  // c, b, u or p
  std::string path;
  int64_t major = 0;
  int64_t minor = 0;
  std::optional<uint32_t> file_mode;
  std::optional<uint32_t> uid, gid;
};

// A device cgroup rule (linux.resources.devices).
struct DeviceRule {
  bool allow = false;
  std::string type;  // a, b or c; empty means all
  std::optional<int64_t> major, minor;
  std::string access;  // some of r, w, m
};

struct Memory {
  std::optional<int64_t> limit, reservation, swap, kernel, kernel_tcp;
  std::optional<uint64_t> swappiness;
  std::optional<bool> disable_oom_killer, use_hierarchy, check_before_update;
};

struct Cpu {
  std::optional<uint64_t> shares;
  std::optional<int64_t> quota;
  std::optional<uint64_t> burst, period;
  std::optional<int64_t> realtime_runtime;
  std::optional<uint64_t> realtime_period;
  std::string cpus, mems;
  std::optional<int64_t> idle;
};

struct Pids {
  int64_t limit = 0;
};

struct WeightDevice {
  int64_t major = 0, minor = 0;
  std::optional<uint16_t> weight, leaf_weight;
};

struct ThrottleDevice {
  int64_t major = 0, minor = 0;
  uint64_t rate = 0;
};

struct BlockIo {
  std::optional<uint16_t> weight, leaf_weight;
  std::vector<WeightDevice> weight_device;
  std::vector<ThrottleDevice> throttle_read_bps_device, throttle_write_bps_device,
      throttle_read_iops_device, throttle_write_iops_device;
};

struct HugepageLimit {
  std::string page_size;  // "2MB", "1GB"
  uint64_t limit = 0;
};

struct InterfacePriority {
  std::string name;
  uint32_t priority = 0;
};

struct Network {
  std::optional<uint32_t> class_id;
  std::vector<InterfacePriority> priorities;
};

struct Resources {
  std::vector<DeviceRule> devices;
  std::optional<Memory> memory;
  std::optional<Cpu> cpu;
  std::optional<Pids> pids;
  std::optional<BlockIo> block_io;
  std::vector<HugepageLimit> hugepage_limits;
  std::optional<Network> network;
  StringMap unified;  // cgroup v2 file name -> value
};

struct SeccompArg {
  uint32_t index = 0;
  uint64_t value = 0;
  uint64_t value_two = 0;
  std::string op;  // SCMP_CMP_*
};

struct Syscall {
  Strings names;
  std::string action;  // SCMP_ACT_*
  std::optional<uint32_t> errno_ret;
  std::vector<SeccompArg> args;
};

struct Seccomp {
  std::string default_action;  // SCMP_ACT_*
  std::optional<uint32_t> default_errno_ret;
  Strings architectures;  // SCMP_ARCH_*
  Strings flags;          // SECCOMP_FILTER_FLAG_*
  std::string listener_path;
  std::string listener_metadata;
  std::vector<Syscall> syscalls;
};

struct Personality {
  std::string domain;  // LINUX or LINUX32
  Strings flags;
};

struct Linux {
  std::vector<Namespace> namespaces;
  std::vector<IdMapping> uid_mappings, gid_mappings;
  std::vector<Device> devices;
  std::string cgroups_path;
  std::optional<Resources> resources;
  StringMap sysctl;
  std::optional<Seccomp> seccomp;
  std::string rootfs_propagation;
  Strings masked_paths, readonly_paths;
  std::string mount_label;
  std::optional<Personality> personality;
};

struct Spec {
  std::string oci_version;
  std::optional<Process> process;
  Root root;
  std::string hostname;
  std::string domainname;
  std::vector<Mount> mounts;
  Hooks hooks;
  StringMap annotations;
  Linux linux;
};

// What the spec is read for. Creating a container needs `process`; other
// uses (reading annotations, the spec of a container already created) do
// not, so the caller says which and parse_spec checks accordingly.
enum class Purpose { Create, Inspect };

// Parses and validates; throws vmrt::Error naming `source` and the field.
Spec parse_spec(const nlohmann::json& j, Purpose purpose = Purpose::Create,
                const std::string& source = "config.json");

// Reads BUNDLE/config.json; errors name the file (and line and column for
// malformed JSON).
Spec load_spec(const std::filesystem::path& bundle, Purpose purpose = Purpose::Create);

nlohmann::json to_json(const Spec& spec);

}  // namespace vmrt::oci
