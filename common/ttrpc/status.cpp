#include "common/ttrpc/status.h"

#include <array>

namespace vmrt::ttrpc {

std::string code_name(Code code) {
  static constexpr std::array<std::string_view, 17> names = {
      "OK",
      "CANCELLED",
      "UNKNOWN",
      "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED",
      "NOT_FOUND",
      "ALREADY_EXISTS",
      "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED",
      "FAILED_PRECONDITION",
      "ABORTED",
      "OUT_OF_RANGE",
      "UNIMPLEMENTED",
      "INTERNAL",
      "UNAVAILABLE",
      "DATA_LOSS",
      "UNAUTHENTICATED",
  };
  auto n = static_cast<int32_t>(code);
  if (n >= 0 && static_cast<size_t>(n) < names.size()) return std::string(names[n]);
  return fmt::format("CODE({})", n);
}

StatusError::StatusError(Code code, std::string message)
    : Error(fmt::format("{}: {}", code_name(code), message)),
      code_(code),
      message_(std::move(message)) {}

}  // namespace vmrt::ttrpc
