#pragma once
// Errors that become gRPC statuses: a request that names an unknown
// container is NOT_FOUND, a malformed one INVALID_ARGUMENT, and so on. Any
// other vmrt::Error (a failed system call while setting a container up) is
// reported as UNKNOWN with its message; nothing escapes as a crash.

#include <grpcpp/support/status.h>

#include "common/error.h"

namespace vmrt::agent {

class RequestError : public Error {
 public:
  RequestError(grpc::StatusCode code, const std::string& what) : Error(what), code_(code) {}
  grpc::StatusCode status_code() const noexcept { return code_; }

 private:
  grpc::StatusCode code_;
};

template <typename... Args>
[[noreturn]] void reject(grpc::StatusCode code, fmt::format_string<Args...> f, Args&&... args) {
  throw RequestError(code, fmt::format(f, std::forward<Args>(args)...));
}

// The status for what an RPC handler threw; logged under the RPC's name.
grpc::Status status_from_exception(const char* rpc, std::exception_ptr e);

// Runs `handler`, turning what it throws into the RPC's status.
template <typename F>
grpc::Status handle(const char* rpc, F&& handler) {
  try {
    handler();
    return grpc::Status::OK;
  } catch (...) {
    return status_from_exception(rpc, std::current_exception());
  }
}

}  // namespace vmrt::agent
