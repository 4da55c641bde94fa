#pragma once
// Child processes: spawned with an argv, reaped exactly once, and killed if
// their owner goes away first, so no stray process outlives a failure.

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/fd.h"

namespace vmrt {

struct ExitStatus {
  bool exited = false;  // else killed by `signal`
  int code = 0;
  int signal = 0;
  bool success() const { return exited && code == 0; }
  std::string describe() const;  // "exited with status 3", "killed by signal 9 (Killed)"
};

struct SpawnOptions {
  std::vector<std::string> extra_env;  // KEY=VALUE added to the environment
  bool capture_output = false;         // stdout and stderr to pipes
};

class Subprocess {
 public:
  // Throws vmrt::Error naming the program when it cannot be executed.
  static Subprocess spawn(const std::vector<std::string>& argv, const SpawnOptions& options = {});

  Subprocess(Subprocess&& other) noexcept;
  Subprocess& operator=(Subprocess&&) = delete;
  Subprocess(const Subprocess&) = delete;
  ~Subprocess();  // SIGKILL and reap if still running

  pid_t pid() const noexcept { return pid_; }
  int stdout_fd() const noexcept { return out_.get(); }
  int stderr_fd() const noexcept { return err_.get(); }
  void kill(int sig) const;
  ExitStatus wait();
  // nullopt when the child is still running after `timeout`.
  std::optional<ExitStatus> wait_for(std::chrono::milliseconds timeout);

 private:
  Subprocess() = default;
  pid_t pid_ = -1;
  std::optional<ExitStatus> status_;
  UniqueFd out_, err_;
};

struct RunResult {
  ExitStatus status;
  bool timed_out = false;
  std::string out, err;
};

// Runs argv to completion, collecting stdout and stderr; a child still running
// after `timeout` is killed and reported as timed out.
RunResult run_capture(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                      const SpawnOptions& options = {});

}  // namespace vmrt
