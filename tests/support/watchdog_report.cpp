#include "tests/support/watchdog_report.h"

#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <exception>
#include <map>
#include <mutex>
#include <utility>

namespace vmrt::test {

namespace {

struct Reports {
  std::mutex mutex;
  int next_id = 0;
  std::map<int, std::pair<std::string, std::function<std::string()>>> by_id;
};

// Never destroyed: a report may be removed after static destruction began.
Reports& reports() {
  static Reports* r = new Reports;
  return *r;
}

void write_all(int fd, const std::string& s) {
  for (size_t done = 0; done < s.size();) {
    ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

struct Job {
  int fd;
  std::atomic<bool> done{false};
};

void* write_reports(void* arg) {
  auto* job = static_cast<Job*>(arg);
  Reports& r = reports();
  std::lock_guard lock(r.mutex);
  for (const auto& [id, entry] : r.by_id) {
    std::string text;
    try {
      text = entry.second();
    } catch (const std::exception& e) {
      text = std::string("(the report failed: ") + e.what() + ")";
    }
    if (text.empty() || text.back() != '\n') text += '\n';
    write_all(job->fd, "[ WATCHDOG ] " + entry.first + ":\n" + text);
  }
  job->done = true;
  return nullptr;
}

}  // namespace

WatchdogReport::WatchdogReport(std::string title, std::function<std::string()> report) {
  Reports& r = reports();
  std::lock_guard lock(r.mutex);
  id_ = r.next_id++;
  r.by_id.emplace(id_, std::make_pair(std::move(title), std::move(report)));
}

WatchdogReport::~WatchdogReport() {
  Reports& r = reports();
  std::lock_guard lock(r.mutex);
  r.by_id.erase(id_);
}

void write_watchdog_reports(int fd) {
  // A thread of its own, so that a report stuck on a lock the hung test
  // holds costs 20 s and not the abort. The job is leaked when abandoned:
  // the thread may still write to it.
  auto* job = new Job{fd};
  pthread_t thread;
  if (::pthread_create(&thread, nullptr, write_reports, job) != 0) return;
  ::pthread_detach(thread);
  for (int i = 0; i < 200 && !job->done; ++i) ::usleep(100 * 1000);
  if (!job->done) {
    write_all(fd, "[ WATCHDOG ] the reports did not finish within 20 s\n");
    return;
  }
  delete job;
}

}  // namespace vmrt::test
