// vmrt-fs-mount: serves a host directory through the in-house FUSE server
// on a host mount point, over /dev/fuse. Runs in the foreground until the
// mount is unmounted from outside, or SIGTERM/SIGINT/SIGHUP, which unmount
// it. For tests and benchmarks of the server without a VM.
//
//   vmrt-fs-mount [--cache none|auto|always] [--threads N] SHARED_DIR MOUNTPOINT
//
// Exit status: 0 after an unmount or a signal, 1 for a setup error.
#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "common/error.h"
#include "common/fd.h"
#include "common/log.h"
#include "vmm/fuse/dev_fuse.h"
#include "vmm/fuse/server.h"

namespace vmrt::fuse {
namespace {

int run(ServerConfig config, DevFuseOptions options) {
  // Signals are taken through a signalfd; block them before any thread starts.
  sigset_t sigs;
  sigemptyset(&sigs);
  for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&sigs, s);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  UniqueFd sigfd(check_sys(signalfd(-1, &sigs, SFD_CLOEXEC), "signalfd"));

  Server server(std::move(config));
  DevFuseMount mount(server, std::move(options));

  pollfd fds[2] = {{sigfd.get(), POLLIN, 0}, {mount.ended_fd(), POLLIN, 0}};
  while (poll(fds, 2, -1) < 0) {
    if (errno != EINTR) throw_errno("poll");
  }
  if (fds[0].revents) {
    signalfd_siginfo si{};
    if (::read(sigfd.get(), &si, sizeof si) == sizeof si)
      SPDLOG_INFO("signal={} unmounting", sigabbrev_np(static_cast<int>(si.ssi_signo)));
  } else {
    SPDLOG_INFO("file system unmounted");
  }
  mount.stop();
  return 0;
}

}  // namespace
}  // namespace vmrt::fuse

int main(int argc, char** argv) {
  using namespace vmrt::fuse;
  CLI::App app{"Serves a host directory through vmrt's FUSE server on a host mount point"};
  ServerConfig config;
  DevFuseOptions options;
  std::string shared, mountpoint, cache = "auto", log_level;
  app.add_option("shared_dir", shared, "Directory to serve")
      ->required()
      ->check(CLI::ExistingDirectory);
  app.add_option("mountpoint", mountpoint, "Where to mount it")
      ->required()
      ->check(CLI::ExistingDirectory);
  app.add_option("--cache", cache, "Guest cache mode: none, auto or always")
      ->check(CLI::IsMember({"none", "auto", "always"}))
      ->capture_default_str();
  app.add_option("--threads", options.threads, "Request threads")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--max-write", config.max_write, "Largest READ/WRITE payload in bytes")
      ->check(CLI::Range(4096, 1 << 20))
      ->capture_default_str();
  bool no_locks = false;
  app.add_flag("--no-posix-locks", no_locks, "Leave POSIX locks to the kernel's FUSE client");
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error|off");
  CLI11_PARSE(app, argc, argv);
  try {
    vmrt::logging::init("vmrt-fs-mount", log_level);
    config.shared_dir = shared;
    config.cache = *parse_cache_mode(cache);
    config.posix_locks = !no_locks;
    options.mountpoint = mountpoint;
    return run(std::move(config), std::move(options));
  } catch (const vmrt::Error& e) {
    SPDLOG_ERROR("{}", e.what());
    return 1;
  } catch (const std::exception& e) {
    SPDLOG_ERROR("{}", e.what());
    return 1;
  }
}
