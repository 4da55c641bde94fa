#pragma once
// A stand-in for a pod VM's agent behind the VMM's hybrid vsock socket
// (vm/vm.sock): a Unix socket served by a thread that takes "CONNECT
// <port>\n", answers "OK 1\n", reads one ttrpc request frame and writes
// canned bytes back (a well-formed answer, or a hostile one), or nothing.

#include <filesystem>
#include <string>
#include <thread>

#include "common/fd.h"
#include "proto/agent.pb.h"

namespace vmrt::monitor::test {

// A ttrpc response frame on `stream` carrying `stats`.
std::string stats_answer(const agent::v1::SandboxStatsResponse& stats, uint32_t stream = 1);

class FakeAgent {
 public:
  // Listens on `vm_socket` (its directory is created); `answer` empty: never
  // answers the request.
  FakeAgent(const std::filesystem::path& vm_socket, std::string answer);
  ~FakeAgent();  // stops the thread
  FakeAgent(const FakeAgent&) = delete;
  FakeAgent& operator=(const FakeAgent&) = delete;

 private:
  void serve();
  void serve_connection(int fd);
  bool wait(int fd);  // readable; false once stop_ is signalled

  std::string answer_;
  UniqueFd listener_;
  UniqueFd stop_;
  std::jthread thread_;
};

}  // namespace vmrt::monitor::test
