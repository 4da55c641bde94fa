#pragma once
// Carries one guest process's standard streams to host descriptors: its
// stdout and stderr (read with repeated agent ReadOutput calls) are written
// to host fds, and
// what a host fd yields is sent to its stdin (WriteStdin, then CloseStdin at
// end of file). Used for a container's init process and for exec'ed ones,
// by the CLI (the caller's own stdio, a terminal) and the shim (FIFOs).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "common/fd.h"
#include "sandbox/agent_client.h"

namespace vmrt::sandbox {

struct RelayFds {
  int in = -1;   // read and sent to the process's stdin; -1: none
  int out = -1;  // receives stdout (the terminal's output); -1: discarded
  int err = -1;  // receives stderr; -1: discarded
};

class IoRelay {
 public:
  // Starts relaying at once; the descriptors stay the caller's and must
  // outlive the relay. Output written before the relay started is delivered
  // (the agent keeps it in the pipe).
  IoRelay(AgentClient& agent, std::string container_id, std::string exec_id, RelayFds fds);
  ~IoRelay();  // cancels what is still running and joins
  IoRelay(const IoRelay&) = delete;
  IoRelay& operator=(const IoRelay&) = delete;

  // Waits until both output streams reached end of file (every writer in
  // the guest closed them), at most `timeout`; true when they did.
  bool wait_outputs(std::chrono::milliseconds timeout);

 private:
  void pump_output(v1::OutputStream stream, int fd);
  void pump_input(int fd);
  bool send_stdin(const char* data, size_t size);
  void finish_stream();

  AgentClient& agent_;
  const std::string container_id_, exec_id_;
  UniqueFd stop_;  // eventfd: wakes the stdin pump
  std::mutex mu_;
  std::condition_variable cv_;
  int streams_open_ = 2;
  std::stop_source stop_calls_;  // ends the calls still waiting on destruction
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> threads_;
};

}  // namespace vmrt::sandbox
