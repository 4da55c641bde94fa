// `vmrt events --interval`: runc's (Go's) durations.
#include <gtest/gtest.h>

#include "common/error.h"
#include "tools/vmrt/commands.h"

namespace vmrt::cli {
namespace {

using namespace std::chrono_literals;

TEST(GoDuration, TheFormsRuncTakes) {
  EXPECT_EQ(parse_go_duration("5s"), 5s);
  EXPECT_EQ(parse_go_duration("500ms"), 500ms);
  EXPECT_EQ(parse_go_duration("1m30s"), 90s);
  EXPECT_EQ(parse_go_duration("1.5s"), 1500ms);
  EXPECT_EQ(parse_go_duration("2h"), 7200s);
  for (const char* bad : {"", "5", "s", "5x", "1s5"})
    EXPECT_THROW(parse_go_duration(bad), Error) << bad;
}

}  // namespace
}  // namespace vmrt::cli
