#pragma once
// For network tests: a named network namespace of their own
// (`ip netns add`), removed again with everything in it, so that the host's
// interfaces and routes are never touched. The test thread may enter it;
// a process started from that thread then runs in it too.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/fd.h"

namespace vmrt::test {

class ScratchNetns {
 public:
  ScratchNetns();   // vmrt-test-<pid>-<n>
  ~ScratchNetns();  // leaves it if entered, deletes it
  ScratchNetns(const ScratchNetns&) = delete;
  ScratchNetns& operator=(const ScratchNetns&) = delete;

  const std::string& name() const { return name_; }
  std::string path() const { return "/run/netns/" + name_; }

  // Moves the calling thread into the namespace, and back.
  void enter();
  void leave();

  // `ip -j ARGS...` in the namespace, parsed; throws vmrt::Error on failure.
  nlohmann::json ip_json(const std::vector<std::string>& args) const;
  // `ip ARGS...` in the namespace; throws vmrt::Error on failure.
  void ip(const std::vector<std::string>& args) const;

 private:
  std::string name_;
  UniqueFd outer_;  // the thread's namespace while entered
};

}  // namespace vmrt::test
