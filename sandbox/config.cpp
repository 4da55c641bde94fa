// The runtime configuration: TOML file -> RuntimeConfig, checked before a VMM
// is started. Every key is listed once (config_fields.h) with the rule its
// value meets (config_rules.h); the file parser, the annotation policy and
// validate() walk that list alike.
#include "sandbox/config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <functional>
#include <sstream>
#include <vector>

#include "common/error.h"
#include "common/fd.h"
#include "sandbox/config_fields.h"
#include "sandbox/config_rules.h"

namespace vmrt::sandbox {

namespace {

namespace fs = std::filesystem;
using namespace rules;
using fields::Info;
using fields::Limit;

std::string type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    default:
      return "a date or time";
  }
}

// One value of the file, with what messages about it need.
class Field {
 public:
  Field(const toml::node& node, std::string key, std::string at)
      : node_(node), key_(std::move(key)), at_(std::move(at)) {}

  [[noreturn]] void error(const std::string& what) const { fail("{}: {}: {}", at_, key_, what); }

  std::string string(const std::string& what = "expected a string") const {
    const auto* s = node_.as_string();
    if (!s) error(fmt::format("{}, got {}", what, type_name(node_)));
    return s->get();
  }
  // Relative paths would depend on the caller's working directory.
  fs::path path() const {
    std::string p = string("expected an absolute path");
    if (p.empty() || p[0] != '/') error(fmt::format("expected an absolute path, got \"{}\"", p));
    return p;
  }
  bool boolean() const {
    const auto* b = node_.as_boolean();
    if (!b) error(fmt::format("expected true or false, got {}", type_name(node_)));
    return b->get();
  }
  // A cgroup below the cgroup2 root: relative, no "." or ".." steps.
  std::string cgroup() const {
    std::string p = string("expected a cgroup path");
    if (!cgroup_ok(p)) error(expected_cgroup(p));
    return p;
  }
  std::string params() const {
    std::string p = string();
    if (!printable(p)) error(kExpectedParams);
    return p;
  }
  int64_t integer(const Int& r) const {
    const auto* i = node_.as_integer();
    if (!i) error(fmt::format("{}, got {}", expected(r), type_name(node_)));
    if (i->get() < r.min || i->get() > r.max)
      error(fmt::format("{}, got {}", expected(r), i->get()));
    return i->get();
  }
  std::string one_of(const Enum& e) const {
    std::string v = string(expected(e));
    if (!in(e, v)) error(fmt::format("{}, got \"{}\"", expected(e), v));
    return v;
  }
  // An array of names, each one of `e`'s.
  std::set<std::string> names(const Enum& e) const {
    std::string what = "expected an array of " + fmt::format("{}", fmt::join(e.names, ", "));
    const auto* a = node_.as_array();
    if (!a) error(fmt::format("{}, got {}", what, type_name(node_)));
    std::set<std::string> out;
    for (const toml::node& item : *a) {
      const auto* name = item.as_string();
      if (!name) error(fmt::format("{}, got {} in it", what, type_name(item)));
      if (name->get() == "kernel_params")
        error("kernel_params is not listed here: annotations.kernel_params = true allows it");
      if (!in(e, name->get())) error(fmt::format("{}, got \"{}\"", what, name->get()));
      out.insert(name->get());
    }
    return out;
  }

 private:
  const toml::node& node_;
  std::string key_;
  std::string at_;
};

std::string position(const std::string& source, const toml::source_region& r) {
  return fmt::format("{}:{}:{}", source, r.begin.line, r.begin.column);
}

using Keys = std::map<std::string, std::function<void(const Field&)>, std::less<>>;

// Sets `member` from the file's value under `rule`.
void read(const Field& f, const Path&, fs::path& member) { member = f.path(); }
void read(const Field& f, const Params&, std::string& member) { member = f.params(); }
void read(const Field& f, const Int& rule, auto& member) {
  fields::set_int(member, f.integer(rule));
}
void read(const Field& f, const Enum& rule, std::string& member) { member = f.one_of(rule); }
void read(const Field& f, const Enum& rule, std::set<std::string>& member) {
  member = f.names(rule);
}
void read(const Field& f, const Bool&, bool& member) { member = f.boolean(); }
void read(const Field& f, const Cgroup&, std::string& member) { member = f.cgroup(); }

// The file's tables, each with its keys' setters into one configuration.
struct Tables {
  std::map<std::string, Keys, std::less<>> tables;
  void operator()(const auto& rule, auto& member, Info, Limit = {}) {
    std::string_view key = rule.key;
    size_t dot = key.find('.');
    tables[std::string(key.substr(0, dot))][std::string(key.substr(dot + 1))] =
        [&rule, &member](const Field& f) { read(f, rule, member); };
  }
};

// Reads the entries of table `name` through `keys`; anything else is an error,
// so that a misspelt key does not silently leave its default in place.
void read_table(const toml::node& node, const toml::key& name, const std::string& source,
                const Keys& keys) {
  const toml::table* table = node.as_table();
  if (!table)
    fail("{}: {}: expected a table, got {}", position(source, name.source()), name.str(),
         type_name(node));
  for (auto&& [key, value] : *table) {
    std::string full = fmt::format("{}.{}", name.str(), key.str());
    auto it = keys.find(key.str());
    if (it == keys.end()) fail("{}: unknown key \"{}\"", position(source, key.source()), full);
    it->second(Field(value, full, position(source, value.source())));
  }
}

// A TOML basic string holding `s`.
std::string toml_string(std::string_view s) {
  std::ostringstream out;
  out << toml::value<std::string>(std::string(s));
  return out.str();
}

// A file validate() accepts: a regular file, executable when `exec`.
void check_file(const RuntimeConfig& c, const char* key, const fs::path& path, bool exec) {
  struct stat st;
  if (::stat(path.c_str(), &st) < 0)
    throw_errno(fmt::format("{}: {}: cannot use {}", origin(c), key, path.string()));
  if (!S_ISREG(st.st_mode)) fail("{}: {}: {} is not a regular file", origin(c), key, path.string());
  if (::access(path.c_str(), exec ? X_OK : R_OK) < 0)
    throw_errno(fmt::format("{}: {}: cannot {} {}", origin(c), key, exec ? "execute" : "read",
                            path.string()));
}

}  // namespace

RuntimeConfig default_config() {
  RuntimeConfig c;
  c.vmm = VMRT_DEFAULT_VMM;
  c.kernel = VMRT_DEFAULT_KERNEL;
  c.image = VMRT_DEFAULT_IMAGE;
  // What one pod may ask for without the operator saying more: no more CPUs
  // than the host has, half its memory.
  long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  long pages = ::sysconf(_SC_PHYS_PAGES);
  long page = ::sysconf(_SC_PAGESIZE);
  uint64_t half_mib = pages > 0 && page > 0 ? uint64_t(pages) * uint64_t(page) / 2 >> 20 : 0;
  c.annotations.max_vcpus =
      static_cast<uint32_t>(std::clamp<int64_t>(cpus, kMaxVcpus.min, kMaxVcpus.max));
  c.annotations.max_memory_mib =
      std::clamp<uint64_t>(half_mib, uint64_t(kMaxMemory.min), uint64_t(kMaxMemory.max));
  return c;
}

RuntimeConfig parse_config(std::string_view text, const std::string& source, RuntimeConfig base) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    fail("{}: {}", position(source, e.source()), e.description());
  }
  RuntimeConfig& c = base;
  Tables keys;
  fields::visit_fields(keys, c);
  const auto& tables = keys.tables;

  for (auto&& [key, value] : root) {
    auto it = tables.find(key.str());
    if (it == tables.end())
      fail("{}: unknown {} \"{}\"", position(source, key.source()),
           value.is_table() ? "table" : "key", key.str());
    read_table(value, key, source, it->second);
  }
  c.source = source;
  return c;
}

RuntimeConfig load_runtime_config(const fs::path& path) {
  if (!path.empty()) return load_config(path, true);
  return load_config(kDefaultConfigPath, false);
}

RuntimeConfig load_config(const fs::path& path, bool must_exist) {
  // open(2) rather than a stream: the errno decides between "no file, use
  // the defaults" and an error, and a stream does not promise to keep it.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd && errno == ENOENT && !must_exist) return default_config();
  std::string what = "cannot read the runtime configuration " + path.string();
  if (!fd) throw_errno(what);
  std::string text;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno(what);
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  return parse_config(text, path.string());
}

namespace {

// validate()'s checks of each value against its rule; the files the paths
// name are looked at (files = true) only once every value is in range.
struct Checks {
  const RuntimeConfig& c;
  bool files;

  void operator()(const Int& r, const auto& member, Info, Limit = {}) const {
    auto v = fields::int_of(member);
    // Compared as unsigned: a value above INT64_MAX must not wrap into range.
    bool in_range = std::unsigned_integral<decltype(v)>
                        ? uint64_t(v) >= uint64_t(r.min) && uint64_t(v) <= uint64_t(r.max)
                        : int64_t(v) >= r.min && int64_t(v) <= r.max;
    if (!files && !in_range) fail("{}: {}: {}, got {}", origin(c), r.key, expected(r), v);
  }
  void operator()(const Enum& e, const std::string& v, Info) const {
    if (!files && !in(e, v)) fail("{}: {}: {}, got \"{}\"", origin(c), e.key, expected(e), v);
  }
  void operator()(const Enum& e, const std::set<std::string>& names, Info) const {
    for (const std::string& v : names) (*this)(e, v, Info{});
  }
  void operator()(const Params& r, const std::string& v, Info) const {
    if (!files && !printable(v)) fail("{}: {}: {}", origin(c), r.key, kExpectedParams);
  }
  void operator()(const Cgroup& r, const std::string& v, Info) const {
    if (!files && !cgroup_ok(v)) fail("{}: {}: {}", origin(c), r.key, expected_cgroup(v));
  }
  void operator()(const Bool&, bool, Info) const {}
  void operator()(const Path& r, const fs::path& v, Info) const {
    if (files) check_file(c, r.key, v, r.exec);
  }
};

}  // namespace

void validate(const RuntimeConfig& c) {
  Checks values{c, false}, files{c, true};
  fields::visit_fields(values, c);
  fields::visit_fields(files, c);
}

std::string default_config_toml() {
  RuntimeConfig d = default_config();
  return fmt::format(
      R"(# vmrt runtime configuration (by default {path}), read by the vmrt CLI
# and containerd-shim-vmrt-v1. Every key is optional: a missing key keeps the
# default shown here. Unknown keys are errors.
# Per sandbox, the annotations io.vmrt.config.<key> may set vcpus, memory_mib,
# fs_cache and boot_timeout_s and add to kernel_params, as far as the
# [annotations] table allows (by default: not at all); the paths and the log
# level come from this file only.

[hypervisor]
# The VMM binary (absolute path).
vmm = {vmm}
# The guest kernel: ELF vmlinux or bzImage (absolute path).
kernel = {kernel}
# The guest image: an initramfs with vmrt-agent as /init (absolute path).
image = {image}
# Appended to the guest kernel command line.
kernel_params = {params}
# Virtual CPUs of a sandbox VM ({vcpus_min} to {vcpus_max}).
vcpus = {vcpus}
# Guest memory in MiB ({mem_min} to {mem_max}).
memory_mib = {mem}
# Seconds from starting the VMM to the guest agent answering ({boot_min} to {boot_max}).
boot_timeout_s = {boot}

[virtiofs]
# How much the guest may cache of the shared container rootfs:
#   none: nothing, host changes are seen at once; auto: names and attributes
#   for a second, data while the file is unchanged; always: everything for a
#   day (fastest, for trees only the guest changes).
cache = {cache}

[log]
# trace, debug, info, warn, error, critical or off.
level = {level}

[jail]
# Confine each VMM: its own mount, IPC and pid namespaces with a root that
# holds only its kernel, image, sockets and shared directory; then running
# as uid/gid below with no capabilities but the file ones virtio-fs needs,
# and inside a cgroup of its own whose memory and CPU limits follow the VM's
# size. false only for debugging.
enabled = {jail}
# The unprivileged uid and gid a VMM drops to ({id_min} to {id_max}). A uid
# of its own keeps other processes of that uid from signalling the VMMs.
uid = {uid}
gid = {gid}
# Where the VMMs' cgroups go, below the cgroup2 root: <cgroup_parent>/<sandbox>.
# "" keeps each VMM in its runtime's cgroup, without limits.
cgroup_parent = {cgroup}

[annotations]
# Which io.vmrt.config.<key> annotations of a pod's spec are honoured: any of
# "vcpus", "memory_mib", "fs_cache", "boot_timeout_s". Any other one is
# refused: the container is not created.
allowed = []
# Whether io.vmrt.config.kernel_params may append guest kernel parameters.
# They can undo the guest's hardening (or replace its init): only for pods
# as trusted as this host.
kernel_params = {kparams}
# The most a vcpus annotation and a memory_mib annotation (MiB) may ask
# for, within the hypervisor's ranges. Without these keys: the host's
# online CPUs and half its memory (on the host that wrote this file,
# {max_vcpus} and {max_mem}).
#max_vcpus = 4
#max_memory_mib = 8192
)",
      fmt::arg("path", kDefaultConfigPath), fmt::arg("vmm", toml_string(d.vmm.string())),
      fmt::arg("kernel", toml_string(d.kernel.string())),
      fmt::arg("image", toml_string(d.image.string())),
      fmt::arg("params", toml_string(d.kernel_params)), fmt::arg("vcpus_min", kVcpus.min),
      fmt::arg("vcpus_max", kVcpus.max), fmt::arg("vcpus", d.vcpus),
      fmt::arg("mem_min", kMemory.min), fmt::arg("mem_max", kMemory.max),
      fmt::arg("mem", d.memory_mib), fmt::arg("boot_min", kBootTimeout.min),
      fmt::arg("boot_max", kBootTimeout.max), fmt::arg("boot", d.boot_timeout.count()),
      fmt::arg("cache", toml_string(d.fs_cache)), fmt::arg("level", toml_string(d.log_level)),
      fmt::arg("jail", d.jail ? "true" : "false"), fmt::arg("id_min", kJailUid.min),
      fmt::arg("id_max", kJailUid.max), fmt::arg("uid", d.jail_uid), fmt::arg("gid", d.jail_gid),
      fmt::arg("cgroup", toml_string(d.cgroup_parent)),
      fmt::arg("kparams", d.annotations.kernel_params ? "true" : "false"),
      fmt::arg("max_vcpus", d.annotations.max_vcpus),
      fmt::arg("max_mem", d.annotations.max_memory_mib));
}

namespace {

nlohmann::json json_value(const fs::path& v) { return v.string(); }
nlohmann::json json_value(std::chrono::seconds v) { return v.count(); }
nlohmann::json json_value(const auto& v) { return v; }

}  // namespace

nlohmann::json to_json(const RuntimeConfig& c) {
  nlohmann::json j = nlohmann::json::object();
  auto add = [&](const auto&, const auto& member, Info info, Limit = {}) {
    j[info.name] = json_value(member);
  };
  fields::visit_fields(add, c);
  j["source"] = c.source.string();
  return j;
}

}  // namespace vmrt::sandbox
