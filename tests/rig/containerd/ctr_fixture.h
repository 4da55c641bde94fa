#pragma once
// The ctr tests' fixture: one containerd per test suite, containers named
// for the test and runtime and deleted after it, and `ctr run` arguments.

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "tests/rig/containerd/containerd_harness.h"

namespace vmrt::containerd_test {

using ::testing::IsEmpty;
using namespace std::chrono_literals;

inline std::string runtime_label(const std::string& runtime) {
  return runtime == kVmrtRuntime ? "vmrt" : "runc";
}

// One containerd for the whole suite (starting it and importing the
// images takes seconds under the rig's emulated CPU); each test deletes
// its own containers and checks that nothing is left.
class ContainerdSuite {
 protected:
  static Containerd* containerd() { return containerd_.get(); }

  static void start(const char* suite) {
    if (containerd_ || !setup_error_.empty()) return;
    try {
      containerd_ = std::make_unique<Containerd>();
    } catch (const std::exception& e) {
      setup_error_ = fmt::format("{}: cannot start containerd: {}", suite, e.what());
    }
  }
  static void stop() {
    containerd_.reset();
    setup_error_.clear();
  }

  // A container id unique to the test and runtime, deleted (with its task)
  // after the test whatever happened.
  std::string container(const std::string& name, const std::string& runtime) {
    std::string id = name + "-" + runtime_label(runtime);
    ids_.push_back(id);
    return id;
  }

  void set_up() {
    if (!containerd_) GTEST_FAIL() << setup_error_;
  }

  void tear_down(bool failed) {
    if (!containerd_) return;
    // Before the deletes below remove them: the pods' consoles and VMM
    // logs say why a task or its VM went away.
    if (failed) ADD_FAILURE() << containerd_->hang_report();
    for (const auto& id : ids_) {
      containerd_->ctr({"task", "delete", "--force", id}, "", 60s);
      containerd_->ctr({"containers", "delete", id}, "", 60s);
    }
    EXPECT_THAT(containerd_->leftovers(), IsEmpty()) << containerd_->log_tail();
  }

  // A detached busybox task of `runtime` that runs until it is killed, seen
  // RUNNING.
  static ::testing::AssertionResult start_looping_task(const std::string& runtime,
                                                       const std::string& cid) {
    RunResult r = containerd_->ctr({"run", "--detach", "--runtime", runtime, kBusyboxImage, cid,
                                    "sh", "-c", "while :; do sleep 1; done"});
    if (!r.status.success()) return ::testing::AssertionFailure() << details(r);
    std::string status = containerd_->wait_task_status(cid, "RUNNING", 60s);
    if (status != "RUNNING") return ::testing::AssertionFailure() << cid << " is " << status;
    return ::testing::AssertionSuccess();
  }

  // For failure messages: what ctr said and how it ended.
  static std::string details(const RunResult& r) {
    return fmt::format("ctr {}{}\nstdout: {}\nstderr: {}", r.timed_out ? "timed out, " : "",
                       r.status.to_string(), r.out, r.err);
  }

 private:
  static inline std::unique_ptr<Containerd> containerd_;
  static inline std::string setup_error_;
  std::vector<std::string> ids_;
};

class Ctr : public ::testing::TestWithParam<std::string>, protected ContainerdSuite {
 protected:
  static void SetUpTestSuite() { start("Ctr"); }
  static void TearDownTestSuite() { stop(); }
  void SetUp() override { set_up(); }
  void TearDown() override { tear_down(HasFailure()); }

  const std::string& runtime() const { return GetParam(); }
  std::string id(const std::string& name) { return container(name, runtime()); }
  Containerd& c() { return *containerd(); }

  // ctr run --runtime R IMAGE ID ARGS... (flags before the image).
  std::vector<std::string> run_args(const std::vector<std::string>& flags, const std::string& id,
                                    const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"run"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.insert(argv.end(), {"--runtime", runtime(), kBusyboxImage, id});
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }
};

}  // namespace vmrt::containerd_test
