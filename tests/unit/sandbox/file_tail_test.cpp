// The end of a log file (a VM's console, a VMM's log) for error messages.
#include "sandbox/file_tail.h"

#include <gtest/gtest.h>

#include <fstream>

#include "common/tempdir.h"

namespace vmrt::sandbox {
namespace {

TEST(FileTail, KeepsTheLastLinesWithoutCarriageReturns) {
  TempDir d;
  auto f = d.path() / "log";
  std::ofstream(f) << "one\r\ntwo\r\nthree\r\nfour\n\n";
  EXPECT_EQ(file_tail(f, 2), "three\nfour");
  EXPECT_EQ(file_tail(f, 10), "one\ntwo\nthree\nfour");
  EXPECT_EQ(file_tail(f, 0), "");
  EXPECT_EQ(file_tail(d.path() / "missing", 5), "");
}

TEST(FileTail, ReadsOnlyTheEndOfALargeFile) {
  TempDir d;
  auto f = d.path() / "log";
  {
    std::ofstream out(f);
    for (int i = 0; i < 100000; ++i) out << "line " << i << "\n";
  }
  EXPECT_EQ(file_tail(f, 1), "line 99999");
}

}  // namespace
}  // namespace vmrt::sandbox
