#pragma once
// The message of the vmrt::Error that `f` throws, or "no error".

#include <functional>
#include <string>

#include "common/error.h"

namespace vmrt::test {

inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace vmrt::test
