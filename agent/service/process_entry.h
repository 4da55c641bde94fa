#pragma once
// The agent's record of one container process (init or exec'ed): its
// standard streams, moved out of the library's Process so that they are
// read and written without holding the container's lock, and its exit
// status once known.

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string_view>

#include "agent/container/container.h"
#include "common/fd.h"
#include "proto/agent.pb.h"

namespace vmrt::agent {

class ProcessEntry {
 public:
  // Takes the stdio pipe ends out of `process` (which stays owned by the
  // caller), duplicates of its terminal master and pidfd. `open_stdin` false closes stdin at once:
  // the process reads end of file.
  ProcessEntry(Process& process, bool open_stdin);

  Process& process() noexcept { return process_; }
  // Readable once the process has exited; never closed before this entry.
  int pidfd() const noexcept { return pidfd_.get(); }
  bool terminal() const noexcept { return terminal_; }

  // Writes `data` to stdin, waiting while the pipe is full until `until`
  // or a stop is requested (the call's connection ended). Returns the bytes
  // written.
  size_t write_stdin(std::string_view data, std::chrono::steady_clock::time_point until,
                     std::stop_token stop);
  void close_stdin();
  // What STDOUT or STDERR has, up to 64 KiB, waiting until `until` for some;
  // eof once every writer closed it (and from then on). Empty when the wait
  // ends or a stop is requested first.
  v1::ReadOutputResponse read_output(v1::OutputStream which,
                                     std::chrono::steady_clock::time_point until,
                                     std::stop_token stop);

  // The cached exit status (set by the service once try_wait() gave it).
  std::optional<ExitStatus> status;

 private:
  Process& process_;
  UniqueFd pidfd_;
  bool terminal_ = false;
  std::mutex stdin_mu_;
  UniqueFd stdin_;            // pipe write end or a duplicate of the terminal master
  UniqueFd stdout_, stderr_;  // read ends; stdout is the terminal master for a terminal
  std::atomic<bool> stdout_busy_{false}, stderr_busy_{false};
  // Set once a stream reached end of file (guarded by its busy flag).
  bool stdout_eof_ = false, stderr_eof_ = false;
};

// WaitProcessResponse for `status`: code, or signal and 128 + signal.
v1::WaitProcessResponse to_wait_response(const ExitStatus& status);

}  // namespace vmrt::agent
