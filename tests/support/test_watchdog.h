#pragma once
// A per-test time limit for GoogleTest binaries. A test that hangs (a child
// that never reports, a wait without a bound) would otherwise run until the
// outer ctest or rig timeout kills everything and say nothing about where it
// was stuck. Linking the vmrt_test_watchdog library is enough: it registers
// itself, and when one test runs longer than the limit it writes the test's
// name and the state of the test process and all its descendants to stderr,
// kills the descendants and aborts.
//
// The limit is 120 s; VMRT_TEST_WATCHDOG_S=N changes it, 0 turns the
// watchdog off (for a debugger that stops the test). What it prints after
// the process tree: watchdog_report.h.

#include <sys/types.h>

namespace vmrt::test {

// Writes to `fd`, for `root` and every process descended from it: pid, ppid,
// comm, state, wchan, the current system call and the kernel stack (where
// readable), and the same per thread for processes with several threads.
// Makes no heap allocation, so it still works when another thread of the
// process is stuck holding the allocator's lock.
void write_process_tree(int fd, pid_t root);

}  // namespace vmrt::test
