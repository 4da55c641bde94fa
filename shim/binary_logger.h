#pragma once
// containerd's "binary://PATH?ARGS" stdio, as its runc shim serves it (nerdctl
// uses it for every container's logs): a logging program started per task,
// reading the task's stdout on fd 3 and stderr on fd 4, which closes or
// writes to fd 5 once it is ready. It runs with CONTAINER_ID and
// CONTAINER_NAMESPACE as its whole environment; the query's keys and values
// are its arguments.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/fd.h"
#include "common/process.h"

namespace vmrt::shim {

// The program and arguments of a binary:// URI, percent-decoded (in the
// query, '+' is a space). Throws vmrt::Error for a URI without a path.
std::vector<std::string> binary_logger_argv(const std::string& uri);

class BinaryLogger {
 public:
  // Starts the program and waits until it says it is ready. Throws
  // vmrt::Error naming the program when it cannot start, or when it has
  // already failed by then (its exit also closes fd 5, which cannot be told
  // from "ready" until the exit is seen).
  static BinaryLogger start(const std::string& uri, const std::string& container_id,
                            const std::string& ns);

  BinaryLogger(BinaryLogger&&) noexcept = default;
  BinaryLogger& operator=(BinaryLogger&&) noexcept = default;
  // Closes the output ends still held, then SIGTERM and at most
  // kTermTimeout for the program to flush and exit; SIGKILL after that.
  ~BinaryLogger();

  // The writing ends of the program's stdout and stderr pipes.
  UniqueFd out, err;

  static constexpr std::chrono::seconds kTermTimeout{12};  // containerd's

 private:
  explicit BinaryLogger(Subprocess p) : process_(std::make_unique<Subprocess>(std::move(p))) {}
  std::unique_ptr<Subprocess> process_;  // null once moved from
};

}  // namespace vmrt::shim
