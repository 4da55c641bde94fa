// `vmrt check` on this host, the real binary against the real /dev/kvm: a
// paravirtual KVM (PVM) is a failure named as such, and the exit status says
// so; the JSON form says the same.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "common/process.h"
#include "common/tempdir.h"
#include "sandbox/host_kvm.h"

namespace vmrt {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

RunResult vmrt_check(const std::filesystem::path& root, std::vector<std::string> extra = {}) {
  std::vector<std::string> argv = {VMRT_CLI, "--config",    VMRT_DEV_CONFIG,
                                   "--root", root.string(), "check"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return run_capture(argv, 60s);
}

// The line of check `name` ("kvm"), or "" when there is none.
std::string line_of(const std::string& out, const std::string& name) {
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);)
    if (line.size() > 5 && line.compare(5, name.size() + 1, name + ":") == 0) return line;
  return "";
}

class VmrtCheckHere : public ::testing::Test {
 protected:
  void SetUp() override {
    if (sandbox::host_kvm_kind() != sandbox::HostKvmKind::kPvm)
      GTEST_SKIP() << "this host's KVM is not PVM";
  }
  TempDir dir_{"vmrt-check"};
};

TEST_F(VmrtCheckHere, PvmIsAFailureNamedAsSuch) {
  RunResult r = vmrt_check(dir_.path() / "state");
  EXPECT_TRUE(r.status.exited) << r.status.to_string();
  EXPECT_EQ(r.status.code, 1) << r.out << r.err;
  std::string kvm = line_of(r.out, "kvm");
  EXPECT_THAT(kvm, HasSubstr("FAIL kvm: "));
  EXPECT_THAT(kvm, HasSubstr("PVM"));
  EXPECT_THAT(kvm, HasSubstr("cannot boot a guest kernel"));
  // Every other check has its line too.
  for (const char* name : {"config", "vmm", "kernel", "image", "jail", "cgroups", "state"})
    EXPECT_NE(line_of(r.out, name), "") << name << " missing from:\n" << r.out;
}

TEST_F(VmrtCheckHere, JsonSaysTheSame) {
  RunResult r = vmrt_check(dir_.path() / "state", {"--format", "json"});
  EXPECT_EQ(r.status.code, 1) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["ok"], false);
  ASSERT_FALSE(j["checks"].empty());
  EXPECT_EQ(j["checks"][0]["name"], "kvm");
  EXPECT_EQ(j["checks"][0]["level"], "fail");
  EXPECT_THAT(j["checks"][0]["message"].get<std::string>(), HasSubstr("PVM"));
}

}  // namespace
}  // namespace vmrt
