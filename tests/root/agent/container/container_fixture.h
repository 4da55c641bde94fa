#pragma once
// The container tests' fixture: a busybox bundle, a state directory, and
// containers run from it with their output and exit status.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "agent/container/container.h"
#include "common/tempdir.h"
#include "tests/root/agent/container/bundle.h"
#include "tests/support/error_text.h"

namespace vmrt::agent::container_test {

namespace fs = std::filesystem;
using test::Bundle;
using test::error_text;
using test::Output;
using test::read_streams;
using test::read_until;

inline std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The lines of our mountinfo that name one of `dirs`: a container's own
// mounts on the host side, and none of those other tests (run beside this
// one under ctest -j2) make.
inline std::string mounts_naming(const std::vector<fs::path>& dirs) {
  std::istringstream all(slurp("/proc/self/mountinfo"));
  std::string line, found;
  while (std::getline(all, line))
    for (const auto& d : dirs)
      if (line.find(d.string()) != std::string::npos) {
        found += line + "\n";
        break;
      }
  return found;
}

inline bool require_controllers() {
  return std::getenv("VMRT_REQUIRE_CGROUP_CONTROLLERS") != nullptr;
}

class ContainerTest : public ::testing::Test {
 protected:
  Bundle bundle;
  TempDir state{"vmrt-state"};

  // The containers' cgroups are removed by destroy(); their common parent is
  // the test's.
  void TearDown() override { ::rmdir((test::cgroup2_root() / "vmrt-test").c_str()); }

  std::string id() const {
    return std::string("t-") + ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }

  ContainerOptions options(const std::string& suffix = "") {
    ContainerOptions o;
    o.id = id() + suffix;
    bundle.config["linux"]["cgroupsPath"] = "/vmrt-test/" + o.id;
    o.spec = oci::parse_spec(bundle.config);
    o.bundle = bundle.dir();
    o.state_dir = state.path();
    o.cgroup_root = test::cgroup2_root();
    o.stdio = StdioConfig::for_process(*o.spec.process);
    return o;
  }

  struct Run {
    ExitStatus status;
    std::string out, err;
  };

  Run run(const std::vector<std::string>& args, bool overlay_rootfs = false) {
    bundle.set_args(args);
    auto opts = options();
    opts.overlay_rootfs = overlay_rootfs;
    auto c = Container::create(std::move(opts));
    c->start();
    Output o = read_streams(c->init().stdio().out.get(), c->init().stdio().err.get());
    return {c->wait(), o.out, o.err};
  }

  Run sh(const std::string& script) { return run({"sh", "-c", script}); }

  void need_controller(const std::string& c) {
    if (test::cgroup_controller_available(c)) return;
    if (require_controllers()) FAIL() << "no " << c << " controller in " << test::cgroup2_root();
    GTEST_SKIP() << "no " << c << " controller in " << test::cgroup2_root()
                 << " (host with cgroup v1): covered by rig.root_container";
  }
};

}  // namespace vmrt::agent::container_test
