#pragma once
// Errors that become the answer's status: a request that names an unknown
// container is NOT_FOUND, a malformed one INVALID_ARGUMENT, and so on. Any
// other vmrt::Error (a failed system call while setting a container up) is
// reported as UNKNOWN with its message; nothing escapes as a crash.

#include "common/error.h"
#include "common/ttrpc/status.h"

namespace vmrt::agent {

using ttrpc::Code;
// A request the agent refuses, with the status code to answer.
using RequestError = ttrpc::StatusError;

template <typename... Args>
[[noreturn]] void reject(Code code, fmt::format_string<Args...> f, Args&&... args) {
  throw RequestError(code, fmt::format(f, std::forward<Args>(args)...));
}

// The RequestError to answer for what a handler threw, logged under the
// method's name: RequestErrors as they are, anything else UNKNOWN (INTERNAL
// when it is not even a std::exception).
RequestError error_from_exception(const char* method, std::exception_ptr e);

// Runs `handler` and returns what it returns, turning what it throws into
// a RequestError.
template <typename F>
auto handle(const char* method, F&& handler) {
  try {
    return handler();
  } catch (...) {
    throw error_from_exception(method, std::current_exception());
  }
}

}  // namespace vmrt::agent
