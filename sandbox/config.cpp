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
void read(const Field& f, const Dir&, fs::path& member) { member = f.path(); }
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
  void operator()(const Dir& r, const fs::path& v, Info) const {
    if (!files && !v.is_absolute())
      fail("{}: {}: expected an absolute path, got \"{}\"", origin(c), r.key, v.string());
  }
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

namespace {

// A default value as default_config_toml() writes it.
std::string toml_value(const fs::path& v) { return toml_string(v.string()); }
std::string toml_value(const std::string& v) { return toml_string(v); }
std::string toml_value(bool v) { return v ? "true" : "false"; }
std::string toml_value(std::chrono::seconds v) { return std::to_string(v.count()); }
std::string toml_value(std::integral auto v) { return std::to_string(v); }
std::string toml_value(const std::set<std::string>& v) {
  std::vector<std::string> items;
  for (const std::string& s : v) items.push_back(toml_string(s));
  return fmt::format("[{}]", fmt::join(items, ", "));
}

// The fmt fields a key's comment may use (fields::Info::comment).
struct CommentArgs {
  int64_t min = 0, max = 0;
  std::string names;
};
CommentArgs comment_args(const Int& r) { return {r.min, r.max, ""}; }
CommentArgs comment_args(const Enum& e) {
  std::vector<std::string> quoted;
  for (std::string_view n : e.names) quoted.push_back(fmt::format("\"{}\"", n));
  return {0, 0, fmt::format("{}", fmt::join(quoted, ", "))};
}
CommentArgs comment_args(const auto&) { return {}; }

}  // namespace

std::string default_config_toml() {
  RuntimeConfig d = default_config();
  std::string out = fmt::format(
      R"(# vmrt runtime configuration (by default {}), read by the vmrt CLI
# and containerd-shim-vmrt-v1. Every key is optional: a missing key keeps the
# default shown here. Unknown keys are errors.
# Per sandbox, the annotations io.vmrt.config.<key> may set vcpus, memory_mib,
# fs_cache and boot_timeout_s and add to kernel_params, as far as the
# [annotations] table allows (by default: not at all); the paths and the log
# level come from this file only.
)",
      kDefaultConfigPath);
  std::string_view table;
  auto key = [&](const auto& rule, const auto& value, Info info, Limit = {}) {
    std::string_view name = rule.key;
    size_t dot = name.find('.');
    if (name.substr(0, dot) != table) out += fmt::format("\n[{}]\n", name.substr(0, dot));
    table = name.substr(0, dot);
    if (info.comment) {
      CommentArgs a = comment_args(rule);
      std::string text =
          fmt::format(fmt::runtime(info.comment), fmt::arg("min", a.min), fmt::arg("max", a.max),
                      fmt::arg("names", a.names), fmt::arg("max_vcpus", d.annotations.max_vcpus),
                      fmt::arg("max_mem", d.annotations.max_memory_mib));
      std::istringstream lines(text);
      for (std::string line; std::getline(lines, line);) out += "# " + line + "\n";
    }
    if (info.example)
      out += fmt::format("#{} = {}\n", name.substr(dot + 1), info.example);
    else
      out += fmt::format("{} = {}\n", name.substr(dot + 1), toml_value(value));
  };
  fields::visit_fields(key, d);
  return out;
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
