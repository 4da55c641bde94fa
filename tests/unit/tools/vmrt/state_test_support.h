#pragma once
// What the state store's tests share: a sample record and its comparison,
// file modes, and forked children that the tests kill and reap.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "common/error.h"
#include "tools/vmrt/state_store.h"

namespace vmrt::cli {
// gtest's printer for EXPECT_EQ on two records: state.json's text.
inline void PrintTo(const ContainerRecord& r, std::ostream* os) { *os << to_json(r).dump(); }
}  // namespace vmrt::cli

namespace vmrt::cli::state_test {

namespace fs = std::filesystem;

inline ContainerRecord sample(const std::string& id) {
  ContainerRecord r;
  r.id = id;
  r.bundle = "/srv/bundles/" + id;
  r.rootfs = "/srv/bundles/" + id + "/rootfs";
  r.oci_version = "1.0.2-dev";
  r.status = Status::Running;
  r.keeper = {1234, 5678};
  r.vmm = {1235, 5679};
  r.vm_socket = "/run/vmrt/" + id + "/vm.sock";
  r.console_log = "/run/vmrt/" + id + "/console.log";
  r.init_pid = 1;
  r.created = "2024-01-02T03:04:05.123456789Z";
  r.annotations = {{"a", "b"}, {"io.vmrt.config.vcpus", "2"}};
  r.exit_status = 137;
  r.error = "guest kernel panicked";
  return r;
}

inline mode_t mode_of(const fs::path& p) {
  struct stat st;
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

inline char proc_state(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(in)), {});
  size_t close = s.rfind(')');
  return close == std::string::npos || close + 2 >= s.size() ? '?' : s[close + 2];
}

// A forked child running `body` (which must not return into the test), killed
// and reaped when the test is done with it.
class Child {
 public:
  template <typename Body>
  explicit Child(Body body) {
    pid_ = ::fork();
    if (pid_ < 0) throw_errno("fork");
    if (pid_ == 0) {
      int code = 3;
      try {
        code = body();
      } catch (...) {
      }
      ::_exit(code);
    }
  }
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      wait();
    }
  }
  pid_t pid() const { return pid_; }
  // The exit code, or -1 when it did not exit normally.
  int wait() {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  pid_t pid_ = -1;
};

inline int sleep_forever() {
  for (;;) ::pause();
}

}  // namespace vmrt::cli::state_test
