#pragma once
// For tests of the agent's request checks: the gRPC status code of the
// RequestError `fn` throws, OK when it throws none.

#include "agent/service/request_error.h"

namespace vmrt::test {

template <typename Fn>
grpc::StatusCode code_of(Fn&& fn) {
  try {
    fn();
  } catch (const agent::RequestError& e) {
    return e.status_code();
  }
  return grpc::StatusCode::OK;
}

}  // namespace vmrt::test
