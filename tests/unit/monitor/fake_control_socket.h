#pragma once
// A stand-in for a VMM's control socket (vmm/control/control_protocol.h):
// a Unix socket served by a thread, answering each request line with a
// canned reply for its "cmd", or misbehaving as a hung or hostile VMM.

#include <filesystem>
#include <map>
#include <string>
#include <thread>

#include "common/fd.h"

namespace vmrt::monitor::test {

class FakeControlSocket {
 public:
  enum class Mode {
    Answer,  // the canned reply for the request's cmd (an error for others)
    Silent,  // reads requests, never answers
    Flood,   // answers with bytes and no newline, without end
  };
  // Listens on `path` (its directory is created).
  FakeControlSocket(const std::filesystem::path& path, std::map<std::string, std::string> replies,
                    Mode mode = Mode::Answer);
  ~FakeControlSocket();  // stops the thread
  FakeControlSocket(const FakeControlSocket&) = delete;
  FakeControlSocket& operator=(const FakeControlSocket&) = delete;

 private:
  void serve();
  void serve_connection(int fd);
  // Waits until `fd` is ready for `events`; false once stop_ is signalled.
  bool wait(int fd, short events);

  std::map<std::string, std::string> replies_;
  Mode mode_;
  UniqueFd listener_;
  UniqueFd stop_;
  std::jthread thread_;
};

// Replies as a running 2-vCPU VM's VMM gives them.
std::map<std::string, std::string> sample_replies();

}  // namespace vmrt::monitor::test
