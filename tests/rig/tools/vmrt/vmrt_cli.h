#pragma once
// The vmrt CLI under test inside the rig: runs the binary with a private
// state root and the build tree's configuration, makes busybox bundles, and
// checks that nothing a container had (VMM, keeper, state directory, mount)
// is left behind.

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/process.h"
#include "common/tempdir.h"

namespace vmrt::cli::test {

class VmrtCli {
 public:
  VmrtCli();
  ~VmrtCli();

  const std::filesystem::path& dir() const { return dir_.path(); }
  // The runtime configuration the commands get (VMRT_CONFIG): the build
  // tree's unless a test writes its own.
  const std::filesystem::path& config() const { return config_; }
  void set_config(std::filesystem::path path) { config_ = std::move(path); }
  std::filesystem::path root() const { return dir() / "state"; }

  // vmrt --root ROOT ARGS..., with `input` on stdin (else /dev/null).
  RunResult run(const std::vector<std::string>& args, const std::string& input = "",
                std::chrono::seconds timeout = std::chrono::seconds(300)) const;

  // For commands that leave a container holding their stdout and stderr
  // (create, run -d: the container writes to what the command was given,
  // as with runc): output goes to files, read once the command exits.
  RunResult run_detached(const std::vector<std::string>& args,
                         std::chrono::seconds timeout = std::chrono::seconds(300)) const;

  // A bundle DIR/NAME whose config.json is `vmrt spec`'s with terminal off,
  // process.args = `args`, then `edit` applied. The rootfs is busybox with
  // its applets linked in /bin.
  std::filesystem::path bundle(const std::string& name, const std::vector<std::string>& args,
                               const std::function<void(nlohmann::json&)>& edit = {}) const;

  // run_detached() as a gtest assertion: on failure it says what the
  // command printed (a VM that failed to boot says why on stderr).
  ::testing::AssertionResult detached_ok(const std::vector<std::string>& args) const;

  // `vmrt state ID` parsed; fails the test when the command fails.
  nlohmann::json state(const std::string& id) const;
  // Polls state until its status is `status` (at most 120 s); the last status.
  std::string wait_status(const std::string& id, const std::string& status) const;

  // The container's state record (its state.json): init_pid, vm_socket,
  // console_log ...
  nlohmann::json record(const std::string& id) const;
  // The pid of `role` ("vmm" or "keeper") from the container's state record.
  pid_t recorded_pid(const std::string& id, const std::string& role) const;

  // What is left of containers: vmrt-vmm and keeper processes, state
  // directories, mounts under dir(). Empty when nothing is.
  std::vector<std::string> leftovers() const;

 private:
  TempDir dir_;
  std::filesystem::path config_ = VMRT_DEV_CONFIG;
};

// Reads `fd` (a terminal's master) until `needle` shows up or `timeout`
// passes; what was read.
std::string read_until(int fd, const std::string& needle, std::chrono::seconds timeout);

}  // namespace vmrt::cli::test
