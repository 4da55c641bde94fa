#include "agent/service/request_error.h"

#include <spdlog/spdlog.h>

namespace vmrt::agent {

grpc::Status status_from_exception(const char* rpc, std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const RequestError& err) {
    spdlog::info("{}: {}", rpc, err.what());
    return grpc::Status(err.status_code(), err.what());
  } catch (const std::exception& err) {
    spdlog::warn("{}: {}", rpc, err.what());
    return grpc::Status(grpc::StatusCode::UNKNOWN, err.what());
  } catch (...) {
    spdlog::error("{}: unknown exception", rpc);
    return grpc::Status(grpc::StatusCode::INTERNAL, std::string(rpc) + ": unknown exception");
  }
}

}  // namespace vmrt::agent
