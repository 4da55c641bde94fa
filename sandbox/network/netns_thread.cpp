#include "sandbox/network/netns_thread.h"

#include <fcntl.h>
#include <sched.h>

#include <exception>
#include <thread>

#include "common/error.h"
#include "common/fd.h"

namespace vmrt::sandbox::network {

void in_network_namespace(const std::filesystem::path& netns, const std::function<void()>& fn) {
  UniqueFd ns(::open(netns.c_str(), O_RDONLY | O_CLOEXEC));
  if (!ns) throw_errno("cannot open the network namespace " + netns.string());
  std::exception_ptr failure;
  std::thread worker([&] {
    try {
      // Only this thread moves: CLONE_NEWNET is per thread, and the thread
      // ends with the namespace it joined.
      check_sys(::setns(ns.get(), CLONE_NEWNET),
                "setns into the network namespace " + netns.string());
      fn();
    } catch (...) {
      failure = std::current_exception();
    }
  });
  worker.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace vmrt::sandbox::network
