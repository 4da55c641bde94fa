#include "vmm/security/confine.h"

#include <spdlog/spdlog.h>

#include <ctime>

#include "common/error.h"
#include "vmm/security/allow_lists.h"
#include "vmm/security/sigsys_reporter.h"

namespace vmrt::vmm::security {

namespace {

// Library state made on first use with calls no list allows: the default
// logger's terminal check (an ioctl), and the time zone a log line's
// timestamp reads from /etc/localtime. Made now, before the filter.
void warm_up_lazy_state() {
  spdlog::default_logger_raw();
  tzset();
}

}  // namespace

FilterContext compile_filter(ThreadRole role, SeccompMode mode) {
  if (mode == SeccompMode::Off) fail("seccomp: no filter to compile when it is off");
  FilterContext ctx(seccomp_init(mode == SeccompMode::Log ? SCMP_ACT_LOG : SCMP_ACT_TRAP),
                    seccomp_release);
  if (!ctx) fail("seccomp: libseccomp cannot start a filter");
  // A call made through another architecture's entry (int 0x80, x32) could
  // pass a number the x86-64 list never looked at.
  if (int r = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS); r < 0)
    throw_errno("seccomp: bad architecture action", -r);
  // A binary search over the numbers instead of a linear chain: vCPU exits
  // and FUSE requests pass through the filter on every call.
  if (int r = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2); r < 0)
    throw_errno("seccomp: filter optimization", -r);
  for (const SyscallRule& rule : allow_list(role))
    if (int r = seccomp_rule_add_array(ctx.get(), rule.action, rule.nr,
                                       static_cast<unsigned>(rule.args.size()), rule.args.data());
        r < 0)
      throw_errno(fmt::format("seccomp: the {} rule for system call {}", role_name(role), rule.nr),
                  -r);
  return ctx;
}

void confine_thread(ThreadRole role, SeccompMode mode) {
  if (mode == SeccompMode::Off) return;
  FilterContext ctx = compile_filter(role, mode);
  report_violations_as(role);
  warm_up_lazy_state();
  // Loading sets no_new_privs on the thread too (libseccomp's default), which
  // the kernel requires of a filter installed without CAP_SYS_ADMIN.
  if (int r = seccomp_load(ctx.get()); r < 0)
    throw_errno(fmt::format("seccomp: loading the {} filter", role_name(role)), -r);
}

}  // namespace vmrt::vmm::security
