#include "common/event_loop.h"

#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include "common/error.h"
#include "common/event_fd.h"

namespace vmrt {
namespace {

using Wake = EventLoop::Wake;

TEST(EventLoop, DispatchesWhatFiredToItsHandler) {
  EventLoop loop("test");
  UniqueFd ready = make_eventfd("ready");
  UniqueFd idle = make_eventfd("idle");
  std::vector<uint32_t> seen;
  int idle_calls = 0;
  loop.add(ready.get(), EPOLLIN, [&](uint32_t events) {
    seen.push_back(events);
    drain_eventfd(ready.get());
  });
  loop.add(idle.get(), EPOLLIN, [&](uint32_t) { ++idle_calls; });
  ASSERT_TRUE(signal_eventfd(ready.get()));
  EXPECT_EQ(loop.run_once(), Wake::Events);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_TRUE(seen[0] & EPOLLIN);
  EXPECT_EQ(idle_calls, 0);
  EXPECT_EQ(loop.run_once(0), Wake::Timeout);
  EXPECT_EQ(seen.size(), 1u);
}

TEST(EventLoop, ModifyChangesTheEventsWatched) {
  EventLoop loop("test");
  UniqueFd fd = make_eventfd("fd");
  uint32_t got = 0;
  loop.add(fd.get(), EPOLLIN, [&](uint32_t events) { got = events; });
  EXPECT_EQ(loop.run_once(0), Wake::Timeout);
  loop.modify(fd.get(), EPOLLOUT);  // an eventfd below its limit is writable
  EXPECT_EQ(loop.run_once(0), Wake::Events);
  EXPECT_EQ(got, static_cast<uint32_t>(EPOLLOUT));
}

TEST(EventLoop, RefusesAnFdTwiceAndModifyingAnUnknownOne) {
  EventLoop loop("test");
  UniqueFd fd = make_eventfd("fd");
  loop.add(fd.get(), EPOLLIN, [](uint32_t) {});
  EXPECT_TRUE(loop.contains(fd.get()));
  EXPECT_THROW(loop.add(fd.get(), EPOLLIN, [](uint32_t) {}), Error);
  loop.remove(fd.get());
  EXPECT_FALSE(loop.contains(fd.get()));
  EXPECT_THROW(loop.modify(fd.get(), EPOLLIN), Error);
  loop.remove(fd.get());  // not watched: nothing happens
}

TEST(EventLoop, StopFromAnotherThreadEndsRun) {
  EventLoop loop("test");
  std::promise<void> waiting;
  bool first = true;
  std::thread runner([&] {
    loop.run([&] {
      if (std::exchange(first, false)) waiting.set_value();
      return -1;
    });
  });
  waiting.get_future().wait();
  loop.stop();
  runner.join();
  EXPECT_TRUE(loop.stop_requested());
  EXPECT_EQ(loop.run_once(), Wake::Stopped);  // stays stopped
}

TEST(EventLoop, OwnedThreadRunsHandlersAndIsJoined) {
  UniqueFd fd = make_eventfd("fd");
  std::promise<std::thread::id> handled;
  auto handled_on = handled.get_future();
  {
    EventLoop loop("test");
    loop.add(fd.get(), EPOLLIN, [&](uint32_t) {
      drain_eventfd(fd.get());
      handled.set_value(std::this_thread::get_id());
    });
    loop.start();
    EXPECT_THROW(loop.start(), Error);
    ASSERT_TRUE(signal_eventfd(fd.get()));
    EXPECT_NE(handled_on.get(), std::this_thread::get_id());
  }  // stops and joins
}

TEST(EventLoop, StopOutranksWhatElseIsReady) {
  EventLoop loop("test");
  UniqueFd fd = make_eventfd("fd");
  int calls = 0;
  loop.add(fd.get(), EPOLLIN, [&](uint32_t) { ++calls; });
  ASSERT_TRUE(signal_eventfd(fd.get()));
  loop.stop();
  EXPECT_EQ(loop.run_once(), Wake::Stopped);
  loop.run();  // returns at once
  EXPECT_EQ(calls, 0);
}

// A loop and two eventfds, both signalled before the handlers are added, so
// one wait reports them in the same batch.
class TwoReady : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(signal_eventfd(a.get()));
    ASSERT_TRUE(signal_eventfd(b.get()));
  }
  EventLoop loop{"test"};
  UniqueFd a = make_eventfd("a");
  UniqueFd b = make_eventfd("b");
};

TEST_F(TwoReady, StopFromAHandlerSkipsTheRestOfTheBatch) {
  int calls = 0;
  for (int fd : {a.get(), b.get()}) {
    loop.add(fd, EPOLLIN, [&](uint32_t) {
      ++calls;
      loop.stop();
    });
  }
  EXPECT_EQ(loop.run_once(), Wake::Stopped);
  EXPECT_EQ(calls, 1);
}

TEST(EventLoop, BeforeWaitRunsBeforeEachWaitAndSetsItsTimeout) {
  EventLoop loop("test");
  int rounds = 0;
  loop.run([&] {
    if (++rounds == 3) loop.stop();
    return 0;  // would block forever with -1: nothing is watched
  });
  EXPECT_EQ(rounds, 3);
}

TEST_F(TwoReady, AHandlerRemovingAnotherDropsItsPendingEvent) {
  int calls = 0;
  loop.add(a.get(), EPOLLIN, [&](uint32_t) {
    ++calls;
    loop.remove(b.get());
    loop.remove(a.get());
  });
  loop.add(b.get(), EPOLLIN, [&](uint32_t) {
    ++calls;
    loop.remove(a.get());
    loop.remove(b.get());
  });
  EXPECT_EQ(loop.run_once(), Wake::Events);
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(loop.contains(a.get()));
  EXPECT_FALSE(loop.contains(b.get()));
  EXPECT_EQ(loop.run_once(0), Wake::Timeout);
}

TEST_F(TwoReady, AnFdAddedAgainMidBatchDoesNotGetTheOldEvent) {
  int old_calls = 0, new_calls = 0;
  auto replace_other = [&](int other, UniqueFd& other_fd) {
    loop.remove(other);
    other_fd.reset();
    other_fd = make_eventfd("replacement");  // quiet, and most likely the same number
    loop.add(other_fd.get(), EPOLLIN, [&](uint32_t) { ++new_calls; });
  };
  loop.add(a.get(), EPOLLIN, [&](uint32_t) {
    ++old_calls;
    replace_other(b.get(), b);
  });
  loop.add(b.get(), EPOLLIN, [&](uint32_t) {
    ++old_calls;
    replace_other(a.get(), a);
  });
  EXPECT_EQ(loop.run_once(), Wake::Events);
  EXPECT_EQ(old_calls, 1);
  EXPECT_EQ(new_calls, 0);
}

std::atomic<int> interruptions{0};
void count_interruption(int) { interruptions.fetch_add(1); }

TEST(EventLoop, ASignalDoesNotEndTheWait) {
  struct sigaction action {};
  struct sigaction previous {};
  action.sa_handler = count_interruption;  // no SA_RESTART: epoll_wait fails with EINTR
  sigemptyset(&action.sa_mask);
  ASSERT_EQ(sigaction(SIGUSR1, &action, &previous), 0);

  EventLoop loop("test");
  UniqueFd fd = make_eventfd("fd");
  std::promise<void> handled;
  loop.add(fd.get(), EPOLLIN, [&](uint32_t) {
    drain_eventfd(fd.get());
    handled.set_value();
  });
  std::promise<void> waiting;
  bool first = true;
  std::atomic<bool> ended{false};
  std::thread runner([&] {
    loop.run([&] {
      if (std::exchange(first, false)) waiting.set_value();
      return -1;
    });
    ended = true;
  });
  waiting.get_future().wait();
  // Signals until several have landed; most find the thread in epoll_wait.
  interruptions = 0;
  while (interruptions < 20) {
    pthread_kill(runner.native_handle(), SIGUSR1);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_FALSE(ended);
  ASSERT_TRUE(signal_eventfd(fd.get()));
  handled.get_future().wait();
  EXPECT_FALSE(ended);
  loop.stop();
  runner.join();
  sigaction(SIGUSR1, &previous, nullptr);
}

}  // namespace
}  // namespace vmrt
