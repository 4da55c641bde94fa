#include "common/error.h"

#include <cstring>

namespace vmrt {

void throw_errno(const std::string& message, int err) {
  throw Error(message + ": " + std::strerror(err), err);
}

}  // namespace vmrt
