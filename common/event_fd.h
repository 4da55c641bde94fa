#pragma once
// eventfd counters as wake-ups between threads (stop a worker, a queue was
// notified, the VM ended): made, signalled and drained the same way
// everywhere.

#include <string>

#include "common/fd.h"

namespace vmrt {

// A non-blocking, close-on-exec eventfd. Throws vmrt::Error naming `what`.
UniqueFd make_eventfd(const std::string& what);

// Adds one to the counter. A saturated counter (EAGAIN on a non-blocking
// eventfd) already means a wake-up is pending, which counts as success;
// false for any other failure.
bool signal_eventfd(int fd) noexcept;

// Resets a non-blocking eventfd's counter to zero (nothing to do when it is
// zero already).
void drain_eventfd(int fd) noexcept;

}  // namespace vmrt
