// When a VM template is discarded after a failed restore
// (sandbox/template_record.h): at once when the VMM refused the snapshot,
// otherwise only after failures in a row; a template made again in its
// place is not the old one's to count against.
#include "sandbox/template_record.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "common/tempdir.h"

namespace vmrt::sandbox {
namespace {

namespace fs = std::filesystem;

class TemplateRecord : public ::testing::Test {
 protected:
  // A template directory as VmTemplate leaves one.
  fs::path make_template() {
    fs::create_directories(dir_);
    for (const char* f : {"key.json", "state", "memory"}) std::ofstream(dir_ / f) << f;
    return dir_;
  }

  TempDir root_;
  fs::path dir_ = root_.path() / "0123456789abcdef";
};

TEST_F(TemplateRecord, ARefusedSnapshotDiscardsTheTemplateAtOnce) {
  RestoreRecord record(make_template());
  EXPECT_TRUE(record.failed(/*snapshot_unusable=*/true));
  EXPECT_FALSE(fs::exists(dir_));
  // Under its lock, which stays for the next one made.
  EXPECT_TRUE(fs::exists(TemplateLock::path_for(dir_)));
}

TEST_F(TemplateRecord, OtherFailuresKeepItUntilTheyComeInARow) {
  RestoreRecord record(make_template());
  for (int i = 1; i < RestoreRecord::kMaxFailedRestores; ++i) {
    EXPECT_FALSE(record.failed(false)) << "failure " << i;
    EXPECT_TRUE(fs::exists(dir_ / "memory"));
  }
  EXPECT_TRUE(record.failed(false));
  EXPECT_FALSE(fs::exists(dir_));
}

TEST_F(TemplateRecord, ARestoreThatWorkedClearsTheFailuresBeforeIt) {
  RestoreRecord record(make_template());
  for (int round = 0; round < 3; ++round) {
    for (int i = 1; i < RestoreRecord::kMaxFailedRestores; ++i) EXPECT_FALSE(record.failed(false));
    record.succeeded();
  }
  EXPECT_TRUE(fs::exists(dir_ / "memory"));
  // Each sandbox counts into the one file: a second record sees the first's.
  RestoreRecord other(dir_);
  for (int i = 1; i < RestoreRecord::kMaxFailedRestores; ++i) EXPECT_FALSE(record.failed(false));
  EXPECT_TRUE(other.failed(false));
}

TEST_F(TemplateRecord, ATemplateMadeAgainInItsPlaceIsNotTheOldOnes) {
  RestoreRecord old(make_template());
  ASSERT_TRUE(RestoreRecord(dir_).failed(true));
  RestoreRecord fresh(make_template());
  // Made at another time, whatever inode its files get.
  struct timespec later[2] = {{0, UTIME_OMIT}, {12345, 678}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (dir_ / "state").c_str(), later, 0), 0);
  fresh = RestoreRecord(dir_);
  // The sandbox that restored from the old one fails late: the new one stays.
  EXPECT_FALSE(old.failed(true));
  EXPECT_TRUE(fs::exists(dir_ / "memory"));
  EXPECT_FALSE(fs::exists(dir_ / "failed_restores"));
  EXPECT_TRUE(fresh.failed(true));
}

TEST_F(TemplateRecord, AMissingTemplateIsNothingToCount) {
  RestoreRecord record(dir_);
  EXPECT_FALSE(record.failed(true));
  record.succeeded();
  EXPECT_FALSE(fs::exists(dir_));
}

}  // namespace
}  // namespace vmrt::sandbox
