#pragma once
// ttrpc call outcomes: gRPC's status codes (the numbers on the wire, which
// containerd maps to its errdefs) and the error a failed call throws.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"

namespace vmrt::ttrpc {

// google.rpc.Code: the numeric values are the protocol.
enum class Code : int32_t {
  Ok = 0,
  Cancelled = 1,
  Unknown = 2,
  InvalidArgument = 3,
  DeadlineExceeded = 4,
  NotFound = 5,
  AlreadyExists = 6,
  PermissionDenied = 7,
  ResourceExhausted = 8,
  FailedPrecondition = 9,
  Aborted = 10,
  OutOfRange = 11,
  Unimplemented = 12,
  Internal = 13,
  Unavailable = 14,
  DataLoss = 15,
  Unauthenticated = 16,
};

// "NOT_FOUND", as gRPC spells the code; "CODE(42)" for a number outside the
// enum (a peer may send any int32).
std::string code_name(Code code);

// A call that did not succeed. Handlers throw it to answer with a status;
// clients receive it for a status from the server and for local failures
// (deadline passed, connection lost).
class StatusError : public Error {
 public:
  StatusError(Code code, std::string message);

  Code status_code() const noexcept { return code_; }
  // The status message alone; what() is "<CODE NAME>: <message>".
  const std::string& message() const noexcept { return message_; }

 private:
  Code code_;
  std::string message_;
};

template <typename... Args>
[[noreturn]] void fail_status(Code code, fmt::format_string<Args...> f, Args&&... args) {
  throw StatusError(code, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace vmrt::ttrpc
