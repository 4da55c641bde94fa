#pragma once
// A worker process that outlives the command starting it: `vmrt create`'s
// keeper of a sandbox, `vmrt exec -d`'s relay. It is forked before the
// command opens any gRPC channel (gRPC's threads do not survive fork), leads
// a new session (the caller's terminal signals reach it only when
// forwarded), and tells the command through a pipe whether it got going.

#include <sys/types.h>

#include <functional>
#include <string>

#include "common/fd.h"

namespace vmrt::cli {

class WorkerReport {
 public:
  explicit WorkerReport(UniqueFd pipe) : pipe_(std::move(pipe)) {}
  // Lets the command return (with `payload`); later calls are ignored.
  void ok(const std::string& payload = "");
  // Makes the command fail with `message`.
  void fail(const std::string& message);

 private:
  void send(char kind, const std::string& text);
  UniqueFd pipe_;
};

struct Worker {
  pid_t pid = -1;
  std::string payload;
};

// Forks; the child runs `work` and exits with its result (reporting a
// failure itself if `work` throws before reporting). The parent returns once
// the child reported ok, or throws vmrt::Error with the child's message, or
// with its exit status if it died without a word.
Worker start_worker(const std::function<int(WorkerReport&)>& work);

}  // namespace vmrt::cli
