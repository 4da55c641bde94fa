// A GoogleTest binary for rerun_failed_cases_test.sh: one test that always
// passes, one that fails only on its first run (it leaves a marker file in
// $RERUN_FIXTURE_DIR, and a rig fault record in $VMRT_RIG_RECORDS when
// RERUN_FIXTURE_RIG_FAULT is set), one that fails unless RERUN_FIXTURE_PASS
// is set.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace {

std::filesystem::path marker() {
  return std::filesystem::path(std::getenv("RERUN_FIXTURE_DIR")) / "ran";
}

}  // namespace

TEST(Fixture, AlwaysPasses) { SUCCEED(); }

TEST(Fixture, FailsOnlyTheFirstTime) {
  bool first = !std::filesystem::exists(marker());
  std::ofstream(marker()) << "ran\n";
  // As the rig records a guest its emulated CPU lost (world_switch_watch.py).
  const char* records = std::getenv("VMRT_RIG_RECORDS");
  if (first && records && std::getenv("RERUN_FIXTURE_RIG_FAULT"))
    std::ofstream(records, std::ios::app) << "testvm-rig-fault: vcpu0-1 vCPU 0: guest shutdown\n";
  EXPECT_FALSE(first) << "the first run of this test fails";
}

TEST(Fixture, FailsUnlessTold) { EXPECT_NE(std::getenv("RERUN_FIXTURE_PASS"), nullptr); }
