#include "agent/container/seccomp.h"

#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <set>

#include "agent/container/child.h"
#include "common/error.h"
#include "common/fd.h"

namespace vmrt::agent {

namespace {

uint32_t action(const std::string& name, std::optional<uint32_t> errno_ret,
                const std::string& where) {
  if (errno_ret && name != "SCMP_ACT_ERRNO" && name != "SCMP_ACT_TRACE")
    fail("{}: errnoRet only applies to SCMP_ACT_ERRNO and SCMP_ACT_TRACE, not {}", where, name);
  uint32_t ret = errno_ret.value_or(EPERM);
  if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") return SCMP_ACT_KILL_THREAD;
  if (name == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
  if (name == "SCMP_ACT_TRAP") return SCMP_ACT_TRAP;
  if (name == "SCMP_ACT_ALLOW") return SCMP_ACT_ALLOW;
  if (name == "SCMP_ACT_LOG") return SCMP_ACT_LOG;
  if (name == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(ret);
  if (name == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(ret);
  if (name == "SCMP_ACT_NOTIFY")
    fail("{}: SCMP_ACT_NOTIFY (a seccomp agent) is not supported", where);
  fail("{}: unknown seccomp action \"{}\"", where, name);
}

const std::map<std::string, scmp_compare> kOps = {{"SCMP_CMP_NE", SCMP_CMP_NE},
                                                  {"SCMP_CMP_LT", SCMP_CMP_LT},
                                                  {"SCMP_CMP_LE", SCMP_CMP_LE},
                                                  {"SCMP_CMP_EQ", SCMP_CMP_EQ},
                                                  {"SCMP_CMP_GE", SCMP_CMP_GE},
                                                  {"SCMP_CMP_GT", SCMP_CMP_GT},
                                                  {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ}};

const std::map<std::string, unsigned int> kFlags = {
    {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW}};

uint32_t architecture(const std::string& name, const std::string& where) {
  // SCMP_ARCH_X86_64 is libseccomp's "x86_64".
  std::string lower = name.substr(std::string_view("SCMP_ARCH_").size());
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  uint32_t arch = seccomp_arch_resolve_name(lower.c_str());
  if (arch == 0) fail("{}: unknown architecture \"{}\"", where, name);
  return arch;
}

using Context = std::unique_ptr<void, void (*)(scmp_filter_ctx)>;

std::vector<sock_filter> compile(const SeccompPlan& plan) {
  Context ctx(seccomp_init(plan.default_action), seccomp_release);
  if (!ctx) fail("linux.seccomp: libseccomp cannot start a filter");
  for (uint32_t arch : plan.architectures)
    if (int r = seccomp_arch_add(ctx.get(), arch); r < 0 && r != -EEXIST)
      throw_errno("linux.seccomp.architectures: seccomp_arch_add", -r);
  for (const SeccompRule& rule : plan.rules)
    if (int r = seccomp_rule_add_array(ctx.get(), rule.action, rule.nr,
                                       static_cast<unsigned>(rule.args.size()), rule.args.data());
        r < 0)
      throw_errno(fmt::format("linux.seccomp: cannot add the rule for {}", rule.syscall), -r);
  UniqueFd mem(static_cast<int>(::syscall(SYS_memfd_create, "seccomp-bpf", MFD_CLOEXEC)));
  if (!mem) throw_errno("memfd_create");
  if (int r = seccomp_export_bpf(ctx.get(), mem.get()); r < 0)
    throw_errno("linux.seccomp: cannot compile the filter", -r);
  off_t size = ::lseek(mem.get(), 0, SEEK_END);
  if (size <= 0 || size % sizeof(sock_filter))
    fail("linux.seccomp: compiled filter has size {}", size);
  std::vector<sock_filter> program(static_cast<size_t>(size) / sizeof(sock_filter));
  if (::pread(mem.get(), program.data(), static_cast<size_t>(size), 0) != size)
    throw_errno("reading the compiled seccomp filter");
  return program;
}

}  // namespace

SeccompPlan plan_seccomp(const oci::Seccomp& s) {
  SeccompPlan plan;
  plan.default_action =
      action(s.default_action, s.default_errno_ret, "linux.seccomp.defaultAction");
  for (size_t i = 0; i < s.architectures.size(); ++i)
    plan.architectures.push_back(
        architecture(s.architectures[i], fmt::format("linux.seccomp.architectures[{}]", i)));
  for (size_t i = 0; i < s.flags.size(); ++i) {
    auto f = kFlags.find(s.flags[i]);
    if (f == kFlags.end()) fail("linux.seccomp.flags[{}]: unsupported flag \"{}\"", i, s.flags[i]);
    plan.flags |= f->second;
  }
  if (!s.listener_path.empty())
    fail("linux.seccomp.listenerPath: seccomp agents are not supported");

  for (size_t i = 0; i < s.syscalls.size(); ++i) {
    const oci::Syscall& call = s.syscalls[i];
    std::string where = fmt::format("linux.seccomp.syscalls[{}]", i);
    uint32_t act = action(call.action, call.errno_ret, where + ".action");
    std::vector<scmp_arg_cmp> args;
    std::set<uint32_t> indexes;
    bool repeated = false;
    for (size_t a = 0; a < call.args.size(); ++a) {
      const oci::SeccompArg& arg = call.args[a];
      if (arg.index > 5)
        fail("{}.args[{}].index: {} is not an argument (0..5)", where, a, arg.index);
      auto op = kOps.find(arg.op);
      if (op == kOps.end()) fail("{}.args[{}].op: unknown operator \"{}\"", where, a, arg.op);
      repeated |= !indexes.insert(arg.index).second;
      args.push_back({arg.index, op->second, arg.value, arg.value_two});
    }
    // A rule with the default's action changes nothing (libseccomp refuses it).
    if (act == plan.default_action) continue;
    for (const std::string& name : call.names) {
      int nr = seccomp_syscall_resolve_name(name.c_str());
      if (nr == __NR_SCMP_ERROR) {
        plan.unknown.push_back(name);
        continue;
      }
      if (repeated)
        for (const scmp_arg_cmp& a : args) plan.rules.push_back({name, nr, act, {a}});
      else
        plan.rules.push_back({name, nr, act, args});
    }
  }
  plan.program = compile(plan);
  return plan;
}

void load_seccomp(const Child& child, const SeccompPlan& plan) {
  sock_fprog prog{static_cast<unsigned short>(plan.program.size()),
                  const_cast<sock_filter*>(plan.program.data())};
  if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, plan.flags, &prog) < 0)
    child.fail(Step::Seccomp);
}

}  // namespace vmrt::agent
