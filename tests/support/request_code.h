#pragma once
// For tests of the agent's request checks: the status code of the
// RequestError `fn` throws, OK when it throws none; and the message a client
// gets with it (what() adds the code's name in front).

#include <string>

#include "agent/service/request_error.h"

namespace vmrt::test {

template <typename Fn>
agent::Code code_of(Fn&& fn) {
  try {
    fn();
  } catch (const agent::RequestError& e) {
    return e.status_code();
  }
  return agent::Code::Ok;
}

// The status message of the RequestError `fn` throws, the what() of another
// vmrt::Error, or "" when it throws none.
template <typename Fn>
std::string request_message(Fn&& fn) {
  try {
    fn();
  } catch (const agent::RequestError& e) {
    return e.message();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace vmrt::test
