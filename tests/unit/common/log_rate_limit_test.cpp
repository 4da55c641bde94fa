// The token bucket for guest-caused log lines, on an injected clock: a
// burst passes, the flood after it is dropped and counted, the next line
// after a refill reports the count, idle time never banks more than a burst.
#include "common/log_rate_limit.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>

namespace vmrt {
namespace {

using namespace std::chrono_literals;

struct FakeClock {
  std::chrono::steady_clock::time_point t{};
  LogRateLimit::Clock fn() {
    return [this] { return t; };
  }
};

TEST(LogRateLimit, BurstPassesThenOnePerRefillWithTheSuppressedCount) {
  FakeClock clock;
  LogRateLimit limit(3, 1s, clock.fn());
  uint64_t suppressed = 99;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(limit.admit(suppressed)) << i;
    EXPECT_EQ(suppressed, 0u);
  }
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(limit.admit(suppressed));
  clock.t += 999ms;
  EXPECT_FALSE(limit.admit(suppressed)) << "no token before a whole refill period";
  clock.t += 1ms;
  ASSERT_TRUE(limit.admit(suppressed));
  EXPECT_EQ(suppressed, 1001u);
  EXPECT_FALSE(limit.admit(suppressed));
  EXPECT_EQ(limit.total_suppressed(), 1002u);
}

TEST(LogRateLimit, IdleTimeRefillsAtMostOneBurst) {
  FakeClock clock;
  LogRateLimit limit(2, 1s, clock.fn());
  uint64_t s;
  ASSERT_TRUE(limit.admit(s));
  ASSERT_TRUE(limit.admit(s));
  ASSERT_FALSE(limit.admit(s));
  clock.t += 1h;
  EXPECT_TRUE(limit.admit(s));
  EXPECT_EQ(s, 1u);
  EXPECT_TRUE(limit.admit(s));
  EXPECT_EQ(s, 0u);
  EXPECT_FALSE(limit.admit(s)) << "an hour of silence is worth one burst, not 3600 lines";
  // Partial periods add up: 3 x 400 ms is one token and 200 ms towards the next.
  clock.t += 400ms;
  EXPECT_FALSE(limit.admit(s));
  clock.t += 400ms;
  EXPECT_FALSE(limit.admit(s));
  clock.t += 400ms;
  EXPECT_TRUE(limit.admit(s));
  clock.t += 800ms;
  EXPECT_TRUE(limit.admit(s));
}

TEST(LogRateLimit, WarnWritesAtMostTheBurstAndOneSummaryLine) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  sink->set_pattern("%v");
  auto saved = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("test", sink));
  FakeClock clock;
  LogRateLimit limit(2, 1s, clock.fn());
  for (int i = 0; i < 100000; ++i) limit.warn("bad packet {}", i);
  clock.t += 1s;
  limit.warn("bad packet {}", -1);
  spdlog::set_default_logger(saved);
  EXPECT_EQ(out.str(),
            "bad packet 0\nbad packet 1\n(99998 similar messages suppressed)\nbad packet -1\n");
}

}  // namespace
}  // namespace vmrt
