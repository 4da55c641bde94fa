#pragma once
// The project's error type: an exception carrying a message that names the
// problem, optionally with the errno that caused it.

#include <fmt/format.h>

#include <cerrno>
#include <stdexcept>
#include <string>

namespace vmrt {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what, int err = 0) : std::runtime_error(what), errno_(err) {}
  // The errno behind the failure, or 0 when it was not a system call.
  int code() const noexcept { return errno_; }

 private:
  int errno_;
};

// Throws Error("<message>: <strerror(errno)>") for a failed system call.
[[noreturn]] void throw_errno(const std::string& message, int err = errno);

template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> f, Args&&... args) {
  throw Error(fmt::format(f, std::forward<Args>(args)...));
}

// Checks the result of a system call that returns -1 on failure.
template <typename T>
T check_sys(T result, const std::string& what) {
  if (result < 0) throw_errno(what);
  return result;
}

}  // namespace vmrt
