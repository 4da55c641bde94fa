#include "common/oci/spec_validate.h"

#include <set>

#include "common/error.h"

namespace vmrt::oci {

namespace {

using Names = std::set<std::string>;

const Names kNamespaceTypes = {"pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time"};
const Names kDeviceTypes = {"c", "b", "u", "p"};
const Names kDeviceRuleTypes = {"", "a", "b", "c"};
const Names kPropagations = {"",        "shared", "slave",    "private",    "unbindable",
                             "rshared", "rslave", "rprivate", "runbindable"};
const Names kSeccompActions = {"SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
                               "SCMP_ACT_TRAP",  "SCMP_ACT_ERRNO",        "SCMP_ACT_TRACE",
                               "SCMP_ACT_ALLOW", "SCMP_ACT_LOG",          "SCMP_ACT_NOTIFY"};
const Names kSeccompOps = {"SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",       "SCMP_CMP_EQ",
                           "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"};
const Names kPersonalities = {"LINUX", "LINUX32"};

// Collects the checks of one spec, all reporting against the same source.
class Checker {
 public:
  explicit Checker(const std::string& source) : source_(source) {}

  [[noreturn]] void invalid(const std::string& path, const std::string& why) const {
    fail("{}: {}: {}", source_, path, why);
  }
  void absolute(const std::string& path, const std::string& value) const {
    if (value.empty() || value[0] != '/')
      invalid(path, fmt::format("must be an absolute path, got \"{}\"", value));
  }
  void one_of(const std::string& path, const std::string& value, const Names& known,
              const char* what) const {
    if (!known.count(value)) invalid(path, fmt::format("unknown {} \"{}\"", what, value));
  }
  void prefixed(const std::string& path, const std::string& value, const char* prefix) const {
    if (value.rfind(prefix, 0) != 0 || value.size() == std::string_view(prefix).size())
      invalid(path, fmt::format("\"{}\" is not a {} name", value, prefix));
  }
  void unique(const std::string& path, const std::string& value, Names& seen) const {
    if (!seen.insert(value).second) invalid(path, fmt::format("\"{}\" is listed twice", value));
  }

  void process(const Process& p) const {
    absolute("process.cwd", p.cwd);
    if (p.args.empty()) invalid("process.args", "must name the program to run");
    const Capabilities& c = p.capabilities;
    for (auto [name, set] : {std::pair{"bounding", &c.bounding},
                             {"effective", &c.effective},
                             {"inheritable", &c.inheritable},
                             {"permitted", &c.permitted},
                             {"ambient", &c.ambient}})
      for (size_t i = 0; i < set->size(); ++i)
        prefixed(fmt::format("process.capabilities.{}[{}]", name, i), (*set)[i], "CAP_");
    Names seen;
    for (size_t i = 0; i < p.rlimits.size(); ++i) {
      std::string path = fmt::format("process.rlimits[{}].type", i);
      prefixed(path, p.rlimits[i].type, "RLIMIT_");
      unique(path, p.rlimits[i].type, seen);
    }
  }

  void hooks(const Hooks& h) const {
    for (auto [name, list] : {std::pair{"prestart", &h.prestart},
                              {"createRuntime", &h.create_runtime},
                              {"createContainer", &h.create_container},
                              {"startContainer", &h.start_container},
                              {"poststart", &h.poststart},
                              {"poststop", &h.poststop}})
      for (size_t i = 0; i < list->size(); ++i) {
        const Hook& hook = (*list)[i];
        absolute(fmt::format("hooks.{}[{}].path", name, i), hook.path);
        if (hook.timeout && *hook.timeout <= 0)
          invalid(fmt::format("hooks.{}[{}].timeout", name, i), "must be greater than zero");
      }
  }

  void linux(const Linux& l) const {
    Names seen;
    for (size_t i = 0; i < l.namespaces.size(); ++i) {
      const Namespace& ns = l.namespaces[i];
      std::string path = fmt::format("linux.namespaces[{}]", i);
      one_of(path + ".type", ns.type, kNamespaceTypes, "namespace type");
      unique(path + ".type", ns.type, seen);
      if (!ns.path.empty()) absolute(path + ".path", ns.path);
    }
    for (size_t i = 0; i < l.devices.size(); ++i) {
      std::string path = fmt::format("linux.devices[{}]", i);
      one_of(path + ".type", l.devices[i].type, kDeviceTypes, "device type");
      absolute(path + ".path", l.devices[i].path);
    }
    if (l.resources)
      for (size_t i = 0; i < l.resources->devices.size(); ++i) {
        const DeviceRule& rule = l.resources->devices[i];
        std::string path = fmt::format("linux.resources.devices[{}]", i);
        one_of(path + ".type", rule.type, kDeviceRuleTypes, "device type");
        if (rule.access.find_first_not_of("rwm") != std::string::npos)
          invalid(path + ".access", fmt::format("\"{}\" is not a set of r, w, m", rule.access));
      }
    if (l.seccomp) seccomp(*l.seccomp);
    one_of("linux.rootfsPropagation", l.rootfs_propagation, kPropagations, "propagation");
    if (l.personality)
      one_of("linux.personality.domain", l.personality->domain, kPersonalities, "personality");
  }

  void seccomp(const Seccomp& s) const {
    one_of("linux.seccomp.defaultAction", s.default_action, kSeccompActions, "seccomp action");
    for (size_t i = 0; i < s.architectures.size(); ++i)
      prefixed(fmt::format("linux.seccomp.architectures[{}]", i), s.architectures[i], "SCMP_ARCH_");
    for (size_t i = 0; i < s.syscalls.size(); ++i) {
      const Syscall& call = s.syscalls[i];
      std::string path = fmt::format("linux.seccomp.syscalls[{}]", i);
      if (call.names.empty()) invalid(path + ".names", "must name at least one system call");
      one_of(path + ".action", call.action, kSeccompActions, "seccomp action");
      for (size_t a = 0; a < call.args.size(); ++a)
        one_of(fmt::format("{}.args[{}].op", path, a), call.args[a].op, kSeccompOps,
               "seccomp operator");
    }
  }

 private:
  const std::string& source_;
};

}  // namespace

void validate(const Spec& spec, Purpose purpose, const std::string& source) {
  Checker check(source);
  if (spec.oci_version.rfind("1.", 0) != 0)
    check.invalid("ociVersion", fmt::format("unsupported version \"{}\"", spec.oci_version));
  if (spec.root.path.empty()) check.invalid("root.path", "must not be empty");
  if (spec.process)
    check.process(*spec.process);
  else if (purpose == Purpose::Create)
    fail("{}: missing required field \"process\"", source);
  for (size_t i = 0; i < spec.mounts.size(); ++i)
    check.absolute(fmt::format("mounts[{}].destination", i), spec.mounts[i].destination);
  check.hooks(spec.hooks);
  check.linux(spec.linux);
}

}  // namespace vmrt::oci
