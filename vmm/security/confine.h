#pragma once
// Installs a thread role's seccomp filter on the calling thread. Filters are
// per thread (no TSYNC): each thread confines itself once its setup is done,
// and threads it creates afterwards inherit its filter, so a thread must be
// created by one of its own role or by one not yet confined.

#include <seccomp.h>

#include <memory>

#include "vmm/security/roles.h"

namespace vmrt::vmm::security {

using FilterContext = std::unique_ptr<void, void (*)(scmp_filter_ctx)>;

// The filter of `role`: its allow list, and for everything else SIGSYS (On)
// or a kernel log entry (Log). Throws vmrt::Error when libseccomp refuses a
// rule. Not for Off.
FilterContext compile_filter(ThreadRole role, SeccompMode mode);

// Confines the calling thread for the rest of its life (Off: does nothing).
// Throws vmrt::Error when the kernel refuses the filter.
void confine_thread(ThreadRole role, SeccompMode mode);

}  // namespace vmrt::vmm::security
