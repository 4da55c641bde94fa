#include "agent/service/request_error.h"

#include <spdlog/spdlog.h>

namespace vmrt::agent {

RequestError error_from_exception(const char* method, std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const RequestError& err) {
    spdlog::info("{}: {}", method, err.message());
    return err;
  } catch (const std::exception& err) {
    spdlog::warn("{}: {}", method, err.what());
    return RequestError(Code::Unknown, err.what());
  } catch (...) {
    spdlog::error("{}: unknown exception", method);
    return RequestError(Code::Internal, std::string(method) + ": unknown exception");
  }
}

}  // namespace vmrt::agent
