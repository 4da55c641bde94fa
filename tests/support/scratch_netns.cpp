#include "tests/support/scratch_netns.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <chrono>

#include "common/error.h"
#include "common/log.h"
#include "common/process.h"

namespace vmrt::test {
namespace {

std::string run_ip(const std::string& netns, std::vector<std::string> args) {
  args.insert(args.begin(), {"ip", "-n", netns});
  RunResult r = run_capture(args, std::chrono::seconds(10));
  if (!r.status.success()) fail("{}: {}: {}", fmt::join(args, " "), r.status.to_string(), r.err);
  return r.out;
}

}  // namespace

ScratchNetns::ScratchNetns() {
  static std::atomic<int> n = 0;
  name_ = fmt::format("vmrt-test-{}-{}", ::getpid(), n++);
  RunResult r = run_capture({"ip", "netns", "add", name_}, std::chrono::seconds(10));
  if (!r.status.success()) fail("ip netns add {}: {}", name_, r.err);
}

ScratchNetns::~ScratchNetns() {
  if (outer_) leave();
  RunResult r = run_capture({"ip", "netns", "del", name_}, std::chrono::seconds(10));
  if (!r.status.success()) spdlog::error("ip netns del {}: {}", name_, r.err);
}

void ScratchNetns::enter() {
  outer_.reset(check_sys(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC),
                         "open /proc/thread-self/ns/net"));
  UniqueFd ns(check_sys(::open(path().c_str(), O_RDONLY | O_CLOEXEC), "open " + path()));
  check_sys(::setns(ns.get(), CLONE_NEWNET), "setns " + path());
}

void ScratchNetns::leave() {
  if (::setns(outer_.get(), CLONE_NEWNET) < 0)
    spdlog::error("cannot return to the test's network namespace: {}", strerror(errno));
  outer_.reset();
}

nlohmann::json ScratchNetns::ip_json(const std::vector<std::string>& args) const {
  std::vector<std::string> a = {"-j"};
  a.insert(a.end(), args.begin(), args.end());
  std::string out = run_ip(name_, a);
  return out.empty() ? nlohmann::json::array() : nlohmann::json::parse(out);
}

void ScratchNetns::ip(const std::vector<std::string>& args) const { run_ip(name_, args); }

}  // namespace vmrt::test
