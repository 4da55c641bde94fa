#pragma once
// For tests of error paths: the message of the vmrt::Error that `fn` throws,
// or "" when it does not throw.

#include <string>

#include "common/error.h"

namespace vmrt::test {

template <typename Fn>
std::string error_text(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace vmrt::test
