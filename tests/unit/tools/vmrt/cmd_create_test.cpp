// vmrt create refusing a bundle before any state exists: a pod's annotations
// outside the operator's policy, and hostile container ids. Nothing may be
// left behind: no state directory, no keeper, no VM.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "common/error.h"
#include "common/tempdir.h"
#include "tests/support/error_text.h"
#include "tests/support/minimal_spec.h"
#include "tools/vmrt/commands.h"
#include "tools/vmrt/globals.h"

namespace vmrt::cli {
namespace {

namespace fs = std::filesystem;
using test::error_text;
using ::testing::HasSubstr;

class CreateRefusal : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(bundle / "rootfs");
    std::ofstream(config) << "[annotations]\nallowed = [\"memory_mib\"]\nmax_memory_mib = 512\n";
    g.root = (dir.path() / "state").string();
    g.config = config.string();
  }
  void write_spec(const nlohmann::json& annotations) {
    test::write_minimal_spec(bundle, annotations);
  }
  std::string create(const std::string& id) {
    CreateArgs a;
    a.id = id;
    a.bundle = bundle.string();
    return error_text([&] { cmd_create(g, a); });
  }
  // The state root holds nothing (it is made by the first create that gets
  // as far as a state directory).
  bool nothing_left() const { return !fs::exists(g.root) || fs::is_empty(g.root); }

  TempDir dir{"cli-create"};
  fs::path bundle = dir.path() / "bundle";
  fs::path config = dir.path() / "config.toml";
  Globals g;
};

TEST_F(CreateRefusal, AnAnnotationAboveTheMaximumLeavesNothing) {
  write_spec({{"io.vmrt.config.memory_mib", "1048576"}});
  EXPECT_EQ(create("c1"),
            fmt::format("annotation io.vmrt.config.memory_mib: 1048576 is above the limit of 512 "
                        "(annotations.max_memory_mib in {})",
                        config.string()));
  EXPECT_TRUE(nothing_left());
}

TEST_F(CreateRefusal, AnAnnotationNotAllowedLeavesNothing) {
  write_spec({{"io.vmrt.config.vcpus", "64"}});
  EXPECT_EQ(create("c1"), fmt::format("annotation io.vmrt.config.vcpus: not allowed by {} "
                                      "(annotations.allowed = [memory_mib])",
                                      config.string()));
  EXPECT_TRUE(nothing_left());
  write_spec({{"io.vmrt.config.kernel_params", "init=/bin/sh"}});
  EXPECT_THAT(create("c1"), HasSubstr("io.vmrt.config.kernel_params: not allowed: guest kernel "
                                      "parameters from a pod need annotations.kernel_params"));
  EXPECT_TRUE(nothing_left());
}

TEST_F(CreateRefusal, HostileIdsLeaveNothing) {
  write_spec(nlohmann::json::object());
  const std::vector<std::string> hostile = {
      "../x", "a/b", "", ".", std::string(1025, 'a'), std::string("a\0", 2), "a\n"};
  for (const std::string& id : hostile) {
    EXPECT_THAT(create(id), HasSubstr("invalid container ID"));
    EXPECT_TRUE(nothing_left());
  }
  EXPECT_FALSE(fs::exists(dir.path() / "x"));
}

}  // namespace
}  // namespace vmrt::cli
