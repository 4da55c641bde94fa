// A process named by pid and start time: alive, gone, a zombie, reaped
// while it is checked.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/fd.h"
#include "tests/support/error_text.h"
#include "tests/unit/tools/vmrt/state_test_support.h"
#include "tools/vmrt/state_store.h"

namespace vmrt::cli {
namespace {

using namespace state_test;
using namespace std::chrono_literals;
using test::error_text;
using ::testing::HasSubstr;

TEST(ProcessId, OfThisProcessIsAlive) {
  ProcessId self = ProcessId::of(::getpid());
  EXPECT_EQ(self.pid, ::getpid());
  EXPECT_GT(self.start_time, 0u);
  EXPECT_TRUE(self.alive());
  EXPECT_EQ(ProcessId::of(::getpid()).start_time, self.start_time);
}

TEST(ProcessId, AnotherStartTimeIsAnotherProcess) {
  // What a pid reused by a later process looks like to an old record.
  ProcessId self = ProcessId::of(::getpid());
  EXPECT_FALSE((ProcessId{self.pid, self.start_time + 1}).alive());
  EXPECT_FALSE((ProcessId{self.pid, 0}).alive());
}

TEST(ProcessId, NoPidIsNotAlive) {
  EXPECT_FALSE(ProcessId{}.alive());
  EXPECT_FALSE((ProcessId{-1, 0}).alive());
  EXPECT_THAT(error_text([] { ProcessId::of(0); }), HasSubstr("no running process with pid 0"));
  EXPECT_THAT(error_text([] { ProcessId::of(-5); }), HasSubstr("no running process"));
}

TEST(ProcessId, AChildIsAliveUntilItDies) {
  Child child(sleep_forever);
  ProcessId id = ProcessId::of(child.pid());
  EXPECT_EQ(id.pid, child.pid());
  EXPECT_TRUE(id.alive());
  // A child starts after its parent.
  EXPECT_GE(id.start_time, ProcessId::of(::getpid()).start_time);
  ::kill(child.pid(), SIGKILL);
  child.wait();
  EXPECT_FALSE(id.alive());
  EXPECT_THAT(error_text([&] { ProcessId::of(id.pid); }),
              HasSubstr(fmt::format("no running process with pid {}", id.pid)));
}

TEST(ProcessId, AZombieIsGone) {
  Child child([] { return 0; });
  ProcessId id{child.pid(), 0};
  for (int i = 0; i < 1000 && proc_state(child.pid()) != 'Z'; ++i) std::this_thread::sleep_for(5ms);
  ASSERT_EQ(proc_state(child.pid()), 'Z');
  EXPECT_THAT(error_text([&] { ProcessId::of(child.pid()); }), HasSubstr("no running process"));
  // Even with the right start time, read while it is a zombie.
  std::ifstream in("/proc/" + std::to_string(child.pid()) + "/stat");
  std::string s((std::istreambuf_iterator<char>(in)), {});
  std::istringstream fields(s.substr(s.rfind(')') + 1));
  std::string field;
  for (int n = 3; n <= 22; ++n) fields >> field;
  id.start_time = std::stoull(field);
  EXPECT_FALSE(id.alive());
  EXPECT_EQ(child.wait(), 0);
}

TEST(ProcessId, AProcessExitingWhileItIsCheckedIsGoneNotAnError) {
  // Reading /proc/PID/stat of a process reaped between the open and the read
  // fails with ESRCH; `vmrt delete --force` met that race as an exception.
  // Checking children as they exit and are reaped hits that window now and
  // then; every answer must be "gone" or "alive", never an error.
  for (int i = 0; i < 100; ++i) {
    Child child([] { return 0; });
    pid_t pid = child.pid();
    std::atomic<bool> reaped{false};
    std::thread checker([&] {
      while (!reaped.load()) EXPECT_NO_THROW((void)(ProcessId{pid, 1}.alive()));
    });
    EXPECT_EQ(child.wait(), 0);
    reaped = true;
    checker.join();
    EXPECT_FALSE((ProcessId{pid, 1}).alive());
  }
}

TEST(ProcessId, ReadsTheStartTimePastACommandNameWithSpacesAndParentheses) {
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  UniqueFd ready_read(ready[0]), ready_write(ready[1]);
  Child child([&] {
    ready_read.reset();
    // 15 characters at most: ") ) 1 2 3 (x) y"
    ::prctl(PR_SET_NAME, ") ) 1 2 3 (x) y");
    char c = 'r';
    if (::write(ready_write.get(), &c, 1) != 1) return 1;
    return sleep_forever();
  });
  ProcessId before = ProcessId::of(child.pid());
  ready_write.reset();
  char c;
  ASSERT_EQ(::read(ready_read.get(), &c, 1), 1);
  std::ifstream comm("/proc/" + std::to_string(child.pid()) + "/comm");
  std::string name;
  std::getline(comm, name);
  ASSERT_EQ(name, ") ) 1 2 3 (x) y");
  ProcessId after = ProcessId::of(child.pid());
  EXPECT_EQ(after.start_time, before.start_time);
  EXPECT_TRUE(before.alive());
}

}  // namespace
}  // namespace vmrt::cli
