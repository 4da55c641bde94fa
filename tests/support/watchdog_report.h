#pragma once
// Reports the test watchdog (test_watchdog.h) prints when a test hangs,
// registered by whatever knows where to look: the log of a daemon the test
// started, a guest console. Apart from the watchdog itself, so that the
// helpers that register them also serve programs without GoogleTest.

#include <functional>
#include <string>

namespace vmrt::test {

// While it lives, `report()` is printed under `title` when the watchdog
// fires. A report may allocate (unlike the process tree), so the reports run
// on a thread of their own and are abandoned when not finished in 20 s.
class WatchdogReport {
 public:
  WatchdogReport(std::string title, std::function<std::string()> report);
  ~WatchdogReport();
  WatchdogReport(const WatchdogReport&) = delete;
  WatchdogReport& operator=(const WatchdogReport&) = delete;

 private:
  int id_;
};

// Writes the live reports to `fd`, waiting at most 20 s for them.
void write_watchdog_reports(int fd);

}  // namespace vmrt::test
