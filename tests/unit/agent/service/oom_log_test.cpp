// The agent's OOM kill log, read after the last number a caller has.
#include "agent/service/oom_log.h"

#include <gtest/gtest.h>

#include <thread>

namespace vmrt::agent {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST(OomLog, ReadsTheKillsAfterTheLastOneSeen) {
  OomLog log;
  auto r = log.read_after(0, Clock::now(), {});
  EXPECT_TRUE(r.container_ids.empty());
  EXPECT_EQ(r.last, 0u);
  log.publish("a");
  log.publish("b");
  r = log.read_after(0, Clock::now(), {});
  EXPECT_EQ(r.container_ids, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(r.last, 2u);
  log.publish("c");
  r = log.read_after(2, Clock::now(), {});
  EXPECT_EQ(r.container_ids, (std::vector<std::string>{"c"}));
  EXPECT_EQ(r.last, 3u);
  r = log.read_after(3, Clock::now(), {});
  EXPECT_TRUE(r.container_ids.empty());
  EXPECT_EQ(r.last, 3u);
}

TEST(OomLog, KeepsOnlyTheLatestAndSaysHowManyWentMissing) {
  OomLog log;
  for (size_t i = 0; i < OomLog::kKept + 10; ++i) log.publish("c" + std::to_string(i));
  auto r = log.read_after(0, Clock::now(), {});
  ASSERT_EQ(r.container_ids.size(), OomLog::kKept);
  EXPECT_EQ(r.container_ids.front(), "c10");
  EXPECT_EQ(r.last, OomLog::kKept + 10);  // last - after - size = 10 missed
}

TEST(OomLog, AWaitingReaderWakesForAKillAndForClose) {
  OomLog log;
  OomLog::Read r;
  std::thread reader([&] { r = log.read_after(0, Clock::now() + 60s, {}); });
  std::this_thread::sleep_for(50ms);
  log.publish("x");
  reader.join();
  EXPECT_EQ(r.container_ids, (std::vector<std::string>{"x"}));

  std::thread closed([&] { r = log.read_after(1, Clock::now() + 60s, {}); });
  std::this_thread::sleep_for(50ms);
  log.close();
  closed.join();
  EXPECT_TRUE(r.closed);
  EXPECT_TRUE(r.container_ids.empty());
  log.reopen();
  EXPECT_FALSE(log.read_after(1, Clock::now(), {}).closed);
}

TEST(OomLog, AStopRequestEndsTheWait) {
  OomLog log;
  std::stop_source stop;
  OomLog::Read r;
  std::thread reader([&] { r = log.read_after(0, Clock::now() + 60s, stop.get_token()); });
  std::this_thread::sleep_for(50ms);
  stop.request_stop();
  reader.join();
  EXPECT_TRUE(r.container_ids.empty());
  EXPECT_FALSE(r.closed);
}

}  // namespace
}  // namespace vmrt::agent
