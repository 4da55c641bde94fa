#pragma once
// The agent's record of one container process (init or exec'ed): its
// standard streams, moved out of the library's Process so that they are
// read and written without holding the container's lock, and its exit
// status once known.

#include <grpcpp/server_context.h>
#include <grpcpp/support/sync_stream.h>

#include <atomic>
#include <mutex>
#include <optional>
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

  // Writes `data` to stdin, waiting while the pipe is full until the call
  // is cancelled. Returns the bytes written.
  size_t write_stdin(std::string_view data, grpc::ServerContext& ctx);
  void close_stdin();
  // Streams STDOUT or STDERR to `writer` until end of file, the call is
  // cancelled or the client goes away.
  void stream_output(v1::OutputStream which, grpc::ServerWriter<v1::OutputChunk>& writer,
                     grpc::ServerContext& ctx);

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
};

// WaitProcessResponse for `status`: code, or signal and 128 + signal.
v1::WaitProcessResponse to_wait_response(const ExitStatus& status);

}  // namespace vmrt::agent
