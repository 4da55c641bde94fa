#include "tools/vmrt/detached_worker.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

#include "common/error.h"
#include "common/fd_io.h"
#include "common/process.h"

namespace vmrt::cli {

void WorkerReport::send(char kind, const std::string& text) {
  if (!pipe_) return;
  try {
    write_all(pipe_.get(), std::string(1, kind) + text);
  } catch (const Error&) {
    // The command is gone (killed); the worker carries on regardless.
  }
  pipe_.reset();
}

void WorkerReport::ok(const std::string& payload) { send('+', payload); }
void WorkerReport::fail(const std::string& message) { send('-', message); }

Worker start_worker(const std::function<int(WorkerReport&)>& work) {
  int fds[2];
  check_sys(::pipe2(fds, O_CLOEXEC), "pipe");
  UniqueFd r(fds[0]), w(fds[1]);
  std::fflush(nullptr);  // nothing buffered may be written twice
  pid_t pid = check_sys(::fork(), "fork the sandbox keeper");
  if (pid == 0) {
    r.reset();
    ::setsid();
    WorkerReport report(std::move(w));
    int rc = 1;
    try {
      rc = work(report);
    } catch (const std::exception& e) {
      report.fail(e.what());
    }
    std::fflush(nullptr);
    ::_exit(rc);
  }
  w.reset();
  std::string message;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(r.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    message.append(buf, n);
  }
  if (!message.empty() && message[0] == '+') return {pid, message.substr(1)};
  // A failed worker exits; reap it so no zombie stays with the command.
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!message.empty()) throw Error(message.substr(1));
  ExitStatus s{WIFEXITED(status), WIFEXITED(status) ? WEXITSTATUS(status) : 0,
               WIFSIGNALED(status) ? WTERMSIG(status) : 0};
  fail("the sandbox keeper {} before it was ready", s.to_string());
}

}  // namespace vmrt::cli
