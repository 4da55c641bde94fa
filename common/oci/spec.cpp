#include "common/oci/spec.h"

#include <fstream>
#include <set>

#include "common/error.h"

namespace vmrt::oci {

namespace {

using nlohmann::json;

// A JSON object being read, with its path for error messages.
class Obj {
 public:
  Obj(const json& j, std::string path, const std::string& source)
      : j_(j), path_(std::move(path)), source_(source) {
    if (!j_.is_object()) type_error(path_, "an object", j_);
  }

  bool has(const char* key) const { return j_.contains(key) && !j_.at(key).is_null(); }
  std::string at(const char* key) const { return path_.empty() ? key : path_ + "." + key; }

  [[noreturn]] void type_error(const std::string& where, const char* expected,
                               const json& got) const {
    fail("{}: {}: expected {}, got {}", source_, where.empty() ? "top level" : where, expected,
         got.type_name());
  }
  [[noreturn]] void invalid(const std::string& where, const std::string& why) const {
    fail("{}: {}: {}", source_, where, why);
  }
  void require(const char* key) const {
    if (!has(key)) fail("{}: missing required field \"{}\"", source_, at(key));
  }

  std::string str(const char* key, std::string def = "") const {
    if (!has(key)) return def;
    const json& v = j_.at(key);
    if (!v.is_string()) type_error(at(key), "a string", v);
    return v.get<std::string>();
  }
  bool boolean(const char* key, bool def = false) const {
    if (!has(key)) return def;
    const json& v = j_.at(key);
    if (!v.is_boolean()) type_error(at(key), "a boolean", v);
    return v.get<bool>();
  }
  template <typename T>
  std::optional<T> integer(const char* key) const {
    if (!has(key)) return std::nullopt;
    const json& v = j_.at(key);
    if (!v.is_number_integer()) type_error(at(key), "an integer", v);
    if constexpr (std::is_unsigned_v<T>) {
      if (v.is_number_unsigned() && v.get<uint64_t>() <= std::numeric_limits<T>::max())
        return v.get<T>();
      invalid(at(key), "out of range for an unsigned value");
    } else {
      int64_t i = v.get<int64_t>();
      if (i < std::numeric_limits<T>::min() || i > std::numeric_limits<T>::max())
        invalid(at(key), "out of range");
      return static_cast<T>(i);
    }
  }
  std::vector<std::string> strings(const char* key) const {
    std::vector<std::string> out;
    if (!has(key)) return out;
    const json& v = j_.at(key);
    if (!v.is_array()) type_error(at(key), "an array of strings", v);
    for (const json& e : v) {
      if (!e.is_string()) type_error(at(key), "an array of strings", e);
      out.push_back(e.get<std::string>());
    }
    return out;
  }
  // Each element of the array at `key` as an object.
  template <typename Fn>
  void each(const char* key, Fn&& fn) const {
    if (!has(key)) return;
    const json& v = j_.at(key);
    if (!v.is_array()) type_error(at(key), "an array", v);
    for (size_t i = 0; i < v.size(); ++i) fn(Obj(v[i], fmt::format("{}[{}]", at(key), i), source_));
  }
  Obj child(const char* key) const { return Obj(j_.at(key), at(key), source_); }
  const json& raw(const char* key) const { return j_.at(key); }

 private:
  const json& j_;
  std::string path_;
  const std::string& source_;
};

const std::set<std::string> kNamespaceTypes = {"pid", "network", "mount",  "ipc",
                                               "uts", "user",    "cgroup", "time"};

std::vector<IdMapping> id_mappings(const Obj& o, const char* key) {
  std::vector<IdMapping> out;
  o.each(key, [&](const Obj& m) {
    for (const char* f : {"containerID", "hostID", "size"}) m.require(f);
    out.push_back({*m.integer<uint32_t>("containerID"), *m.integer<uint32_t>("hostID"),
                   *m.integer<uint32_t>("size")});
  });
  return out;
}

Process parse_process(const Obj& p) {
  Process out;
  out.terminal = p.boolean("terminal");
  p.require("cwd");
  out.cwd = p.str("cwd");
  if (out.cwd.empty() || out.cwd[0] != '/')
    p.invalid(p.at("cwd"), "must be an absolute path, got \"" + out.cwd + "\"");
  out.args = p.strings("args");
  if (out.args.empty()) p.invalid(p.at("args"), "must name the program to run");
  out.env = p.strings("env");
  if (p.has("user")) {
    Obj u = p.child("user");
    out.user.uid = u.integer<uint32_t>("uid").value_or(0);
    out.user.gid = u.integer<uint32_t>("gid").value_or(0);
    out.user.umask = u.integer<uint32_t>("umask");
    if (u.has("additionalGids")) {
      const json& gids = u.raw("additionalGids");
      if (!gids.is_array()) u.type_error(u.at("additionalGids"), "an array of integers", gids);
      for (const json& g : gids) {
        if (!g.is_number_unsigned())
          u.type_error(u.at("additionalGids"), "an array of integers", g);
        out.user.additional_gids.push_back(g.get<uint32_t>());
      }
    }
  }
  if (p.has("capabilities")) {
    Obj c = p.child("capabilities");
    Capabilities& caps = out.capabilities;
    caps = {c.strings("bounding"), c.strings("effective"), c.strings("inheritable"),
            c.strings("permitted"), c.strings("ambient")};
    for (auto* set :
         {&caps.bounding, &caps.effective, &caps.inheritable, &caps.permitted, &caps.ambient})
      for (const std::string& name : *set)
        if (name.rfind("CAP_", 0) != 0)
          c.invalid(c.at("capabilities"), "\"" + name + "\" is not a CAP_ name");
  }
  p.each("rlimits", [&](const Obj& r) {
    r.require("type");
    Rlimit l{r.str("type"), r.integer<uint64_t>("hard").value_or(0),
             r.integer<uint64_t>("soft").value_or(0)};
    if (l.type.rfind("RLIMIT_", 0) != 0)
      r.invalid(r.at("type"), "\"" + l.type + "\" is not an RLIMIT_ name");
    out.rlimits.push_back(l);
  });
  out.no_new_privileges = p.boolean("noNewPrivileges");
  out.oom_score_adj = p.integer<int>("oomScoreAdj");
  out.apparmor_profile = p.str("apparmorProfile");
  out.selinux_label = p.str("selinuxLabel");
  return out;
}

Hooks parse_hooks(const Obj& h) {
  Hooks out;
  auto list = [&](const char* key, std::vector<Hook>& into) {
    h.each(key, [&](const Obj& e) {
      e.require("path");
      into.push_back(
          {e.str("path"), e.strings("args"), e.strings("env"), e.integer<int>("timeout")});
    });
  };
  list("prestart", out.prestart);
  list("createRuntime", out.create_runtime);
  list("createContainer", out.create_container);
  list("startContainer", out.start_container);
  list("poststart", out.poststart);
  list("poststop", out.poststop);
  return out;
}

Linux parse_linux(const Obj& l) {
  Linux out;
  std::set<std::string> seen;
  l.each("namespaces", [&](const Obj& n) {
    n.require("type");
    Namespace ns{n.str("type"), n.str("path")};
    if (!kNamespaceTypes.count(ns.type))
      n.invalid(n.at("type"), "unknown namespace type \"" + ns.type + "\"");
    if (!seen.insert(ns.type).second)
      n.invalid(n.at("type"), "namespace \"" + ns.type + "\" is listed twice");
    out.namespaces.push_back(ns);
  });
  out.uid_mappings = id_mappings(l, "uidMappings");
  out.gid_mappings = id_mappings(l, "gidMappings");
  out.cgroups_path = l.str("cgroupsPath");
  for (auto [key, field] : {std::pair{"resources", &out.resources},
                            {"seccomp", &out.seccomp},
                            {"devices", &out.devices}})
    if (l.has(key)) *field = l.raw(key);
  if (l.has("resources")) l.child("resources");  // must be an object
  if (l.has("seccomp")) l.child("seccomp");
  if (l.has("sysctl")) {
    Obj s = l.child("sysctl");
    for (const auto& [k, v] : l.raw("sysctl").items()) out.sysctl[k] = s.str(k.c_str());
  }
  out.masked_paths = l.strings("maskedPaths");
  out.readonly_paths = l.strings("readonlyPaths");
  out.rootfs_propagation = l.str("rootfsPropagation");
  out.mount_label = l.str("mountLabel");
  return out;
}

}  // namespace

Spec parse_spec(const json& j, Purpose purpose, const std::string& source) {
  Obj top(j, "", source);
  Spec spec;
  top.require("ociVersion");
  spec.oci_version = top.str("ociVersion");
  if (spec.oci_version.rfind("1.", 0) != 0)
    top.invalid("ociVersion", "unsupported version \"" + spec.oci_version + "\"");
  top.require("root");
  Obj root = top.child("root");
  root.require("path");
  spec.root = {root.str("path"), root.boolean("readonly")};
  if (spec.root.path.empty()) root.invalid("root.path", "must not be empty");
  if (purpose == Purpose::Create) top.require("process");
  if (top.has("process")) {
    spec.process = parse_process(top.child("process"));
    spec.has_process = true;
  }
  spec.hostname = top.str("hostname");
  spec.domainname = top.str("domainname");
  top.each("mounts", [&](const Obj& m) {
    m.require("destination");
    Mount mount{m.str("destination"), m.str("type"), m.str("source"), m.strings("options")};
    if (mount.destination.empty() || mount.destination[0] != '/')
      m.invalid(m.at("destination"), "must be an absolute path, got \"" + mount.destination + "\"");
    spec.mounts.push_back(mount);
  });
  if (top.has("hooks")) spec.hooks = parse_hooks(top.child("hooks"));
  if (top.has("annotations")) {
    Obj a = top.child("annotations");
    for (const auto& [k, v] : j.at("annotations").items()) spec.annotations[k] = a.str(k.c_str());
  }
  if (top.has("linux")) spec.linux = parse_linux(top.child("linux"));
  return spec;
}

Spec load_spec(const std::filesystem::path& bundle, Purpose purpose) {
  std::filesystem::path file = bundle / "config.json";
  std::ifstream in(file);
  if (!in) throw_errno("cannot read " + file.string());
  json j;
  try {
    j = json::parse(in);
  } catch (const json::parse_error& e) {
    fail("{}: malformed JSON: {}", file.string(), e.what());
  }
  return parse_spec(j, purpose, file.string());
}

}  // namespace vmrt::oci
